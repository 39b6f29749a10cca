"""The step protocol: request bodies, cursor, pauses, tool calls, failures and early exits.

Each test scripts the server's SSE answers to consecutive ``/step`` calls and iterates the stream
the way ``flow.steps()``/``flow.events()`` do, with the sync and the async client.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Literal

import httpx
import pytest

from noukai_sdk import (
    APIConnectionError,
    APIResponseValidationError,
    AsyncNoukai,
    FlowCompleted,
    FlowExecutionError,
    FlowNotFoundError,
    Noukai,
    RunStarted,
    StepCompleted,
    StepFailed,
    StepOutput,
    StepPaused,
    StepStarted,
    StreamEvent,
    StreamInterruptedError,
    ToolCallLimitError,
    ToolCallsRequired,
)
from noukai_sdk._core.events import wire_event_type
from noukai_sdk._streams import AsyncEventStream, EventStream

Mode = Literal["sync", "async"]
MODES: list[Mode] = ["sync", "async"]


def sse(cls: type[StreamEvent], **fields: Any) -> bytes:
    """One SSE frame for an event, its payload serialised by the generated model."""
    payload = cls.model_validate(fields).to_wire()
    return f"event: {wire_event_type(cls)}\ndata: {json.dumps(payload)}\n\n".encode()


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """One scripted response body: chunks, optionally failing after them; records its closing."""

    def __init__(self, chunks: Sequence[bytes], *, fail: bool = False) -> None:
        self.chunks = list(chunks)
        self.fail = fail
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.fail:
            raise httpx.ReadError("connection reset by peer")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


class StepServer:
    """Answers each ``/step`` POST with the next scripted body and records every request."""

    def __init__(self, *bodies: bytes | Body, status: int = 200) -> None:
        self.bodies = [b if isinstance(b, Body) else Body([b]) for b in bodies]
        self.served: list[Body] = []
        self.requests: list[httpx.Request] = []
        self.status = status

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.bodies:
            raise AssertionError(f"unexpected extra request {len(self.requests)}")
        body = self.bodies.pop(0)
        self.served.append(body)
        headers = {"content-type": "text/event-stream", "x-request-id": "req-1"}
        return httpx.Response(self.status, headers=headers, stream=body)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    @property
    def bodies_sent(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    @property
    def open_streams(self) -> int:
        return sum(not body.closed for body in self.served)


def sync_stream(server: StepServer, **kwargs: Any) -> EventStream[StreamEvent]:
    """``flow.steps(...)`` (with ``only_steps=True``) or ``flow.events(...)`` on a ``Noukai``."""
    client = Noukai(api_key="nk_test", http_client=httpx.Client(transport=server.transport))
    flow = client.flow("o/p/s")
    return flow.steps(**kwargs) if kwargs.pop("only_steps", False) else flow.events(**kwargs)


def async_stream(server: StepServer, **kwargs: Any) -> AsyncEventStream[StreamEvent]:
    """The same on an ``AsyncNoukai``."""
    http = httpx.AsyncClient(transport=server.transport)
    flow = AsyncNoukai(api_key="nk_test", http_client=http).flow("o/p/s")
    return flow.steps(**kwargs) if kwargs.pop("only_steps", False) else flow.events(**kwargs)


def drain(mode: Mode, server: StepServer, **call: Any) -> list[StreamEvent]:
    """Iterate to the end with the sync or the async client."""
    if mode == "sync":
        with sync_stream(server, **call) as stream:
            return list(stream)

    async def collect() -> list[StreamEvent]:
        async with async_stream(server, **call) as stream:
            return [event async for event in stream]

    return asyncio.run(collect())


def answering(*results: dict[str, Any]) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    """A tool handler that always returns ``results``."""

    def handler(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return list(results)

    return handler


def kinds(events: Sequence[StreamEvent]) -> list[str]:
    return [event.type for event in events]


# --- a two-step flow ---------------------------------------------------------------------------

SEGMENT_1 = b"".join(
    [
        sse(RunStarted, run_id="r", execution_id="e", step_count=2),
        sse(StepStarted, step_id="s0", name="first"),
        sse(StepOutput, step_id="s0", output_data={"delta": "x"}),
        sse(StepCompleted, step_id="s0", output=1, cost_usd="0.000150"),
        sse(StepPaused, step_id="s0"),
    ]
)
SEGMENT_2 = b"".join(
    [
        sse(RunStarted, run_id="r", execution_id="e"),
        sse(StepStarted, step_id="s1"),
        sse(StepCompleted, step_id="s1", output={"done": True}),
        sse(FlowCompleted, run_id="r", execution_id="e", result={"done": True}),
    ]
)


@pytest.mark.parametrize("mode", MODES)
def test_events_walks_a_two_step_flow_one_step_per_call(mode: Mode) -> None:
    server = StepServer(SEGMENT_1, SEGMENT_2)
    events = drain(mode, server, message="hi")

    assert kinds(events) == [
        "run_started",
        "step_started",
        "step_output",
        "step_completed",
        "step_paused",
        "run_started",
        "step_started",
        "step_completed",
        "flow_completed",
    ]
    assert [
        e.step_index for e in events if isinstance(e, (StepStarted, StepCompleted, StepPaused))
    ] == [
        0,
        0,
        1,
        1,
        1,
    ]
    first, second = server.bodies_sent
    assert first["stepIndex"] == 0 and "executionId" not in first and first["message"] == "hi"
    assert second["executionId"] == "e" and second["stepIndex"] == 1 and "message" not in second
    assert second["accumulatedOutputs"] == {"s0": 1}
    assert server.open_streams == 0


@pytest.mark.parametrize("mode", MODES)
def test_steps_yields_only_step_completions(mode: Mode) -> None:
    events = drain(mode, StepServer(SEGMENT_1, SEGMENT_2), only_steps=True)
    assert all(isinstance(e, StepCompleted) for e in events)
    assert [(e.step_id, e.output) for e in events] == [("s0", 1), ("s1", {"done": True})]  # type: ignore[union-attr]


def test_contract_request_bodies_byte_for_byte() -> None:
    # The three /step bodies: the first call, the call after a step_paused, and the tool resume.
    expected = [
        '{"stepIndex": 0, "accumulatedOutputs": {}, "message": "hi", "parameters": {"k": 1}, "attachments": [{"url": "u"}], "inputOverrides": {"i": 1}, "blockOverrides": {"b": {"x": 1}}, "runRemaining": false, "tools": [{"t": 1}], "toolChoice": "auto", "iterationsUsed": 0, "trace": true}',
        '{"executionId": "e", "stepIndex": 1, "accumulatedOutputs": {"s0": 1}, "parameters": {}, "inputOverrides": {"i": 1}, "blockOverrides": {"b": {"x": 1}}, "runRemaining": false, "tools": [{"t": 1}], "toolChoice": "auto", "iterationsUsed": 0, "trace": true}',
        '{"executionId": "e", "stepIndex": 1, "accumulatedOutputs": {"s0": 1}, "parameters": {}, "inputOverrides": {"i": 1}, "blockOverrides": {"b": {"x": 1}}, "runRemaining": false, "tools": [{"t": 1}], "toolChoice": "auto", "toolCallMessages": [{"role": "assistant"}, {"role": "tool", "tool_call_id": "tc", "content": "ok"}], "iterationsUsed": 1, "trace": true}',
    ]
    server = StepServer(
        sse(RunStarted, execution_id="e")
        + sse(StepCompleted, step_id="s0", output=1)
        + sse(StepPaused),
        sse(
            ToolCallsRequired,
            run_id="r",
            execution_id="e",
            step_id="s1",
            step_index=1,
            iterations_used=1,
            tool_call_messages=[{"role": "assistant"}],
            tool_calls=[{"id": "tc"}],
        ),
        sse(FlowCompleted, execution_id="e"),
    )
    drain(
        "sync",
        server,
        message="hi",
        parameters={"k": 1},
        attachments=[{"url": "u"}],
        input_overrides={"i": 1},
        block_overrides={"b": {"x": 1}},
        tools=[{"t": 1}],
        tool_choice="auto",
        trace=True,
        tool_handler=answering({"role": "tool", "tool_call_id": "tc", "content": "ok"}),
    )
    assert [json.dumps(json.loads(r.content)) for r in server.requests] == expected


@pytest.mark.parametrize("mode", MODES)
def test_every_step_call_carries_the_session_id_and_the_per_call_timeout(mode: Mode) -> None:
    server = StepServer(SEGMENT_1, SEGMENT_2)
    drain(mode, server, session_id="sess-1", timeout=7.5)
    assert [r.headers["x-session-id"] for r in server.requests] == ["sess-1", "sess-1"]
    assert all(r.extensions["timeout"]["read"] == 7.5 for r in server.requests)


def test_no_session_header_when_none_resolved_and_versioned_path() -> None:
    server = StepServer(SEGMENT_1, SEGMENT_2)
    drain("sync", server, version=3)
    assert all("x-session-id" not in r.headers for r in server.requests)
    assert [r.url.path for r in server.requests] == ["/api/v1/seq/o/p/s/v3/step"] * 2
    assert [r.url.host for r in server.requests] == ["api.noukai.dev"] * 2


@pytest.mark.parametrize("version", ["draft", 0])
def test_draft_version_is_refused_before_any_request(version: str | int) -> None:
    server = StepServer()
    with pytest.raises(ValueError, match="draft"):
        drain("sync", server, version=version)
    assert server.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_run_remaining_streams_every_step_in_one_call(mode: Mode) -> None:
    body = b"".join(
        [
            sse(RunStarted, execution_id="e"),
            sse(StepStarted, step_id="s0"),
            sse(StepCompleted, step_id="s0", output=1),
            sse(StepStarted, step_id="s1"),
            sse(StepCompleted, step_id="s1", output=2),
            sse(FlowCompleted, execution_id="e", result=2),
        ]
    )
    server = StepServer(body)
    events = drain(mode, server, run_remaining=True)
    assert "step_paused" not in kinds(events) and kinds(events)[-1] == "flow_completed"
    assert server.bodies_sent[0]["runRemaining"] is True
    assert [e.step_index for e in events if isinstance(e, StepCompleted)] == [0, 1]


# --- the server's cursor wins ------------------------------------------------------------------


def test_server_step_indexes_win_over_the_client_count() -> None:
    server = StepServer(
        sse(StepStarted, step_id="s3", step_index=3)
        + sse(StepCompleted, step_id="s3", step_index=3, output="x")
        + sse(StepPaused, step_id="s3", step_index=5),
        sse(FlowCompleted),
    )
    events = drain("sync", server)
    assert [
        e.step_index for e in events if isinstance(e, (StepStarted, StepCompleted, StepPaused))
    ] == [
        3,
        3,
        5,
    ]
    assert server.bodies_sent[1]["stepIndex"] == 5


def test_execution_id_comes_from_any_event_that_carries_it() -> None:
    server = StepServer(
        sse(RunStarted, run_id="r") + sse(StepCompleted, step_id="s0") + sse(StepPaused),
        sse(RunStarted, execution_id="e2") + sse(StepCompleted, step_id="s1") + sse(StepPaused),
        sse(FlowCompleted),
    )
    drain("sync", server)
    sent = server.bodies_sent
    assert "executionId" not in sent[1]  # runId is never taken for the execution id
    assert sent[2]["executionId"] == "e2"


# --- truncated and broken streams ----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_stream_ending_without_pause_or_terminal_event_raises_with_the_cursor(mode: Mode) -> None:
    server = StepServer(
        sse(RunStarted, execution_id="e") + sse(StepCompleted, step_id="s0", output=1)
    )
    with pytest.raises(StreamInterruptedError) as caught:
        drain(mode, server)
    error = caught.value
    assert isinstance(error, APIConnectionError)
    assert (error.execution_id, error.step_index, error.accumulated_outputs) == ("e", 1, {"s0": 1})
    assert error.request_id == "req-1"


def test_a_frame_cut_in_the_middle_is_an_interruption_not_a_validation_error() -> None:
    cut = sse(FlowCompleted, execution_id="e")[:-10]
    with pytest.raises(StreamInterruptedError):
        drain("sync", StepServer(sse(RunStarted, execution_id="e") + cut))


@pytest.mark.parametrize("mode", MODES)
def test_a_connection_dropped_mid_stream_raises_stream_interrupted(mode: Mode) -> None:
    server = StepServer(Body([sse(StepCompleted, step_id="s0", output=1)], fail=True))
    with pytest.raises(StreamInterruptedError, match="connection failed") as caught:
        drain(mode, server)
    assert caught.value.step_index == 1


def test_a_final_event_without_its_blank_line_still_counts() -> None:
    events = drain("sync", StepServer(sse(FlowCompleted, execution_id="e")[:-1]))
    assert kinds(events) == ["flow_completed"]


def test_error_status_on_step_is_mapped_before_any_event() -> None:
    server = StepServer(b'{"detail": {"code": "FLOW_NOT_FOUND", "message": "nope"}}', status=404)
    with pytest.raises(FlowNotFoundError, match="nope"):
        drain("sync", server)


# --- step errors -----------------------------------------------------------------------------------

FAILING = sse(RunStarted, execution_id="e") + sse(
    StepFailed, step_id="s0", name="first", error={"code": "BLOCK_FAILED", "message": "boom"}
)


@pytest.mark.parametrize("mode", MODES)
def test_steps_raises_flow_execution_error_on_step_error(mode: Mode) -> None:
    with pytest.raises(FlowExecutionError, match="boom") as caught:
        drain(mode, StepServer(FAILING), only_steps=True)
    assert (caught.value.code, caught.value.execution_id) == ("BLOCK_FAILED", "e")


@pytest.mark.parametrize("mode", MODES)
def test_events_yields_step_failed_and_ends(mode: Mode) -> None:
    events = drain(mode, StepServer(FAILING))
    assert kinds(events) == ["run_started", "step_error"]
    assert isinstance(events[-1], StepFailed) and events[-1].error == {
        "code": "BLOCK_FAILED",
        "message": "boom",
    }


# --- control events must validate ----------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        b'event: step_completed\ndata: {"stepId": "s", "costUsd": 0.5}\n\n',
        b'event: step_error\ndata: {"stepId": "s", "error": "text"}\n\n',
        b'event: step_paused_for_tool_calls\ndata: {"executionId": "e", "stepId": "s"}\n\n',
        b"event: flow_completed\ndata: {not json\n\n",
    ],
)
def test_invalid_control_events_raise_instead_of_being_dropped(frame: bytes) -> None:
    with pytest.raises(APIResponseValidationError) as caught:
        drain("sync", StepServer(frame))
    assert caught.value.request_id == "req-1"
    assert caught.value.raw_body


def test_invalid_utf8_in_a_frame_raises_a_validation_error_with_the_request_id() -> None:
    with pytest.raises(APIResponseValidationError, match="UTF-8") as caught:
        drain("sync", StepServer(b'event: step_output\ndata: {"stepId": "\xff"}\n\n'))
    assert caught.value.request_id == "req-1"


def test_invalid_progress_events_are_skipped_with_a_log_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = b'event: step_started\ndata: {"name": "no id"}\n\n' + sse(FlowCompleted)
    with caplog.at_level(logging.WARNING, logger="noukai_sdk.streaming"):
        events = drain("sync", StepServer(body))
    assert kinds(events) == ["flow_completed"]
    assert "step_started" in caplog.text and "stepId" in caplog.text


# --- tool pauses -----------------------------------------------------------------------------------


def tool_pause(call_id: str, *, iterations: int = 1) -> bytes:
    return sse(
        ToolCallsRequired,
        run_id="r",
        execution_id="e",
        step_id="s0",
        step_index=0,
        iterations_used=iterations,
        tool_call_messages=[{"role": "assistant", "tool_calls": [{"id": call_id}]}],
        tool_calls=[{"id": call_id, "function": {"name": "lookup"}}],
        accumulated_outputs={"pre": 0},
    )


DONE = sse(StepCompleted, step_id="s0", output="answer") + sse(FlowCompleted, execution_id="e")


def test_auto_mode_answers_tool_pauses_with_the_handler_and_hides_them() -> None:
    seen: list[list[dict[str, Any]]] = []

    def handler(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen.append(calls)
        return [{"tool_call_id": calls[0]["id"], "output": {"n": 1}}]  # the 0.2.0 README shape

    server = StepServer(tool_pause("c1"), tool_pause("c2", iterations=2), DONE)
    events = drain("sync", server, tool_handler=handler, session_id="sess")
    assert "tool_calls_required" not in kinds(events)
    assert [calls[0]["id"] for calls in seen] == ["c1", "c2"]
    resume = server.bodies_sent[2]
    assert resume["toolCallMessages"][-1] == {
        "role": "tool",
        "tool_call_id": "c2",
        "content": '{"n": 1}',
    }
    assert resume["iterationsUsed"] == 2 and resume["executionId"] == "e"
    assert resume["accumulatedOutputs"] == {"pre": 0}
    assert [r.headers["x-session-id"] for r in server.requests] == ["sess"] * 3


def test_async_client_awaits_async_tool_handlers() -> None:
    async def handler(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        await asyncio.sleep(0)
        return [{"role": "tool", "tool_call_id": calls[0]["id"], "content": "ok"}]

    server = StepServer(tool_pause("c1"), DONE)
    events = drain("async", server, tool_handler=handler, only_steps=True)
    assert kinds(events) == ["step_completed"]
    assert server.bodies_sent[1]["toolCallMessages"][-1]["content"] == "ok"


def test_sync_client_refuses_an_async_handler_before_any_request() -> None:
    async def handler(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return []

    server = StepServer(tool_pause("c1"))
    with pytest.raises(TypeError, match="async tool_handler"):
        drain("sync", server, tool_handler=handler)
    assert server.requests == []


def test_sync_client_refuses_a_handler_that_returns_an_awaitable() -> None:
    async def answer() -> list[dict[str, Any]]:
        return []

    def handler(calls: list[dict[str, Any]]) -> Any:
        return answer()

    server = StepServer(tool_pause("c1"))
    with pytest.raises(TypeError, match="awaitable"):
        drain("sync", server, tool_handler=handler)
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_max_tool_rounds_limits_handler_calls(mode: Mode) -> None:
    calls: list[int] = []

    def handler(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        calls.append(1)
        return [{"role": "tool", "tool_call_id": tool_calls[0]["id"], "content": "ok"}]

    server = StepServer(tool_pause("c1"), tool_pause("c2"))
    with pytest.raises(ToolCallLimitError) as caught:
        drain(mode, server, tool_handler=handler, max_tool_rounds=1)
    assert caught.value.code == "TOOL_CALL_LIMIT_CLIENT" and caught.value.execution_id == "e"
    assert len(calls) == 1 and len(server.requests) == 2


def test_a_result_for_an_unknown_tool_call_fails_before_the_resume_request() -> None:
    server = StepServer(tool_pause("c1"))
    with pytest.raises(ValueError, match="not pending"):
        drain("sync", server, tool_handler=answering({"tool_call_id": "zz", "output": "x"}))
    assert len(server.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_steps_without_handler_names_the_way_out(mode: Mode) -> None:
    with pytest.raises(FlowExecutionError, match=r"tool_handler.*events\(\)") as caught:
        drain(mode, StepServer(tool_pause("c1")), only_steps=True)
    assert caught.value.code == "TOOL_HANDLER_REQUIRED"


def test_sync_manual_resume_stages_results_for_the_next_call() -> None:
    server = StepServer(tool_pause("c1"), DONE)
    seen: list[str] = []
    with sync_stream(server) as stream:
        for event in stream:
            seen.append(event.type)
            if isinstance(event, ToolCallsRequired):
                assert event.tool_calls[0]["id"] == "c1"
                event.resume_sync([{"toolCallId": "c1", "output": "42"}])  # the 0.4.0 README shape
    assert seen == ["tool_calls_required", "step_completed", "flow_completed"]
    assert server.bodies_sent[1]["toolCallMessages"][-1] == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "42",
    }


async def test_async_manual_resume_stages_results_for_the_next_call() -> None:
    server = StepServer(tool_pause("c1"), DONE)
    seen: list[str] = []
    async with async_stream(server) as stream:
        async for event in stream:
            seen.append(event.type)
            if isinstance(event, ToolCallsRequired):
                with pytest.raises(TypeError, match="resume"):
                    event.resume_sync([])
                await event.resume([{"role": "tool", "tool_call_id": "c1", "content": "42"}])
    assert seen == ["tool_calls_required", "step_completed", "flow_completed"]
    assert server.bodies_sent[1]["iterationsUsed"] == 1


def test_asking_for_the_next_event_without_resuming_raises_instead_of_looping() -> None:
    server = StepServer(tool_pause("c1"), tool_pause("c1"))
    with sync_stream(server) as stream:
        event = next(stream)
        assert isinstance(event, ToolCallsRequired)
        with pytest.raises(FlowExecutionError, match="resume_sync"):
            next(stream)
        with pytest.raises(RuntimeError, match="no longer current"):
            event.resume_sync([{"tool_call_id": "c1", "output": "late"}])
    assert len(server.requests) == 1


def test_resume_on_the_wrong_client_kind_or_a_hand_built_event() -> None:
    server = StepServer(tool_pause("c1"))
    with sync_stream(server) as stream:
        event = next(stream)
        assert isinstance(event, ToolCallsRequired)
        with pytest.raises(TypeError, match="resume_sync"):
            event.resume([])
    hand_built = ToolCallsRequired.model_validate(
        {
            "run_id": "r",
            "execution_id": "e",
            "step_id": "s",
            "step_index": 0,
            "iterations_used": 0,
            "tool_call_messages": [],
            "tool_calls": [],
        }
    )
    with pytest.raises(RuntimeError, match="cannot be resumed"):
        hand_built.resume_sync([])


# --- leaving early returns the connection ----------------------------------------------------------


@pytest.mark.parametrize("how", ["break", "exception", "close"])
def test_leaving_a_sync_stream_early_closes_its_connection_at_once(how: str) -> None:
    server = StepServer(SEGMENT_1)

    def consume() -> None:
        stream = sync_stream(server)
        for _ in stream:
            if how == "break":
                break
            if how == "exception":
                raise KeyError("user code failed")
            stream.close()
            assert server.open_streams == 0
            return

    if how == "exception":
        with pytest.raises(KeyError):
            consume()
    else:
        consume()
    assert server.open_streams == 0
    assert len(server.requests) == 1


async def test_leaving_an_async_stream_early_closes_its_connection() -> None:
    server = StepServer(SEGMENT_1)
    async with async_stream(server) as stream:
        async for _ in stream:
            break
    assert server.open_streams == 0
    assert len(server.requests) == 1


class CountingPool(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport with a two-connection pool: a stream left open keeps its connection."""

    def __init__(self) -> None:
        self.in_use = 0
        self.peak = 0

    def _respond(self) -> httpx.Response:
        if self.in_use == 2:
            raise httpx.PoolTimeout("no connection available in the pool")
        self.in_use += 1
        self.peak = max(self.peak, self.in_use)
        return httpx.Response(200, stream=PooledBody(self, SEGMENT_1))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._respond()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(10):  # like a real pool, wait (a few loop turns) for a connection
            if self.in_use < 2:
                break
            await asyncio.sleep(0)
        return self._respond()


class PooledBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, pool: CountingPool, data: bytes) -> None:
        self.pool, self.data, self.released = pool, data, False

    def __iter__(self) -> Iterator[bytes]:
        yield self.data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data

    def close(self) -> None:
        if not self.released:
            self.released = True
            self.pool.in_use -= 1

    async def aclose(self) -> None:
        self.close()


def test_a_thousand_broken_off_sync_iterations_do_not_exhaust_a_small_pool() -> None:
    pool = CountingPool()
    flow = Noukai(api_key="nk_test", http_client=httpx.Client(transport=pool)).flow("o/p/s")
    for _ in range(1000):
        for _event in flow.events("hi"):
            break
    assert pool.in_use == 0 and pool.peak == 1


async def test_a_thousand_broken_off_async_iterations_do_not_exhaust_a_small_pool() -> None:
    pool = CountingPool()
    flow = AsyncNoukai(api_key="nk_test", http_client=httpx.AsyncClient(transport=pool)).flow(
        "o/p/s"
    )
    for _ in range(1000):
        async with flow.events("hi") as stream:
            async for _event in stream:
                break
    assert pool.in_use == 0 and pool.peak == 1


async def test_plain_break_in_async_for_releases_the_connection_while_the_next_call_waits() -> None:
    # Without ``async with`` the stream is closed by the event loop's async-generator finalizer,
    # which runs as soon as the next request waits for a connection.
    pool = CountingPool()
    flow = AsyncNoukai(api_key="nk_test", http_client=httpx.AsyncClient(transport=pool)).flow(
        "o/p/s"
    )
    for _ in range(1000):
        async for _event in flow.events("hi"):
            break
    for _ in range(10):
        await asyncio.sleep(0)
    assert pool.in_use == 0 and pool.peak <= 2
