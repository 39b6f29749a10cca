"""``stream_text()``, ``stream_object()`` and ``auto_resume``, with the API mocked by respx.

The SSE frames, the scripted bodies (``fail=True`` breaks the connection after them) and the
``sleeps`` fixture (back-off recorded, not slept) are the step-protocol and retry tests' own.

Every test runs with the blocking and the asyncio client; :func:`consume` iterates a helper stream
the way the README does and returns what the caller sees.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, Literal

import httpx
import pytest
import respx
import test_client_retries
from pydantic import BaseModel
from test_replay_helpers import SESSION_ID, execution, session, step, wire_bytes
from test_step_protocol import Body, sse

from noukai_sdk import (
    AsyncNoukai,
    AsyncObjectStream,
    AsyncTextStream,
    FlowCompleted,
    FlowExecutionError,
    Noukai,
    ObjectStream,
    OutputValidationError,
    RunStarted,
    StepCompleted,
    StepFailed,
    StepInput,
    StepOutput,
    StepStarted,
    StreamInterruptedError,
    TextStream,
    ToolCallsRequired,
    trace_scope,
    trace_scope_sync,
)
from noukai_sdk._core.usage import Usage

sleeps = test_client_retries.sleeps  # the fixture, requested by name below
BASE = "https://api.noukai.dev/api/v1"
FLOW = "/seq/acme/main/writer"
Mode = Literal["sync", "async"]
MODES: list[Mode] = ["sync", "async"]


class StepServer:
    """Answers each ``/step`` POST with the next scripted body; records the request bodies."""

    def __init__(self, router: respx.MockRouter, *bodies: Body | httpx.Response) -> None:
        self.bodies = list(bodies)
        self.served: list[Body] = []
        self.sent: list[dict[str, Any]] = []
        router.post(f"{FLOW}/step").mock(side_effect=self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(json.loads(request.content))
        body = self.bodies.pop(0)
        if isinstance(body, httpx.Response):
            return body
        self.served.append(body)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def client(mode: Mode, **options: Any) -> Noukai | AsyncNoukai:
    cls = Noukai if mode == "sync" else AsyncNoukai
    return cls("nk_test", org="acme", project="main", **options)


Outcome = tuple[list[Any], Any, "BaseException | None"]


def consume(
    mode: Mode,
    open_stream: Callable[[Any], Any],
    *,
    stop_after: int | None = None,
    **client_options: Any,
) -> Outcome:
    """Iterate ``open_stream(flow)`` inside ``with``: (items, stream, error raised if any)."""
    return consume_all(mode, [open_stream], stop_after=stop_after, **client_options)[0]


def consume_all(
    mode: Mode,
    openers: Sequence[Callable[[Any], Any]],
    *,
    stop_after: int | None = None,
    **client_options: Any,
) -> list[Outcome]:
    """:func:`consume` for several streams in a row, on one client."""
    outcomes: list[Outcome] = []
    if mode == "sync":
        flow = client(mode, **client_options).flow("writer")
        for open_stream in openers:
            items: list[Any] = []
            stream = open_stream(flow)
            try:
                with stream:
                    for item in stream:
                        items.append(item)
                        if stop_after is not None and len(items) >= stop_after:
                            break
            except Exception as error:
                outcomes.append((items, stream, error))
            else:
                outcomes.append((items, stream, None))
        return outcomes

    async def run() -> list[Outcome]:
        flow = client(mode, **client_options).flow("writer")
        for open_stream in openers:
            items: list[Any] = []
            stream = open_stream(flow)
            try:
                async with stream:
                    async for item in stream:
                        items.append(item)
                        if stop_after is not None and len(items) >= stop_after:
                            break
            except Exception as error:
                outcomes.append((items, stream, error))
            else:
                outcomes.append((items, stream, None))
        return outcomes

    return asyncio.run(run())


def finish(mode: Mode, value: Any) -> Any:
    """``final_result()``/``final_object()`` on either stream kind."""
    return asyncio.run(value) if mode == "async" else value


# --- stream_text ---------------------------------------------------------------------------

RUN = sse(RunStarted, run_id="r", execution_id="exec-1", flow_id="flow-9", step_count=2)
WRITE = [
    sse(StepStarted, step_id="write"),
    sse(StepOutput, step_id="write", output_data={"delta": "Hello"}),
    sse(StepOutput, step_id="write", output_data=", world"),
    sse(StepOutput, step_id="write", output_data={"progress": 0.5}),
    sse(
        StepCompleted,
        step_id="write",
        output="Hello, world",
        tokens={"prompt": 3, "completion": 4, "total": 7},
        cost_usd="0.000100",
    ),
]
SIGN = [
    sse(StepStarted, step_id="sign"),
    sse(StepOutput, step_id="sign", output_data={"not": "text"}),
    sse(
        StepCompleted,
        step_id="sign",
        output="-- Ada",
        tokens={"prompt": 1, "completion": 2},
        cost_usd="0.000050",
    ),
]
DONE = sse(FlowCompleted, run_id="r", execution_id="exec-1", result="-- Ada")
WHOLE_RUN = [RUN, *WRITE, *SIGN, DONE]


@pytest.mark.parametrize("mode", MODES)
def test_stream_text_yields_deltas_and_whole_text_outputs(
    router: respx.MockRouter, mode: Mode
) -> None:
    server = StepServer(router, Body(WHOLE_RUN))
    deltas, stream, error = consume(mode, lambda flow: flow.stream_text("hi"))
    assert error is None
    assert deltas == ["Hello", ", world", "-- Ada"]
    assert isinstance(stream, TextStream if mode == "sync" else AsyncTextStream)
    assert stream.text == "Hello, world-- Ada"
    assert stream.execution_id == "exec-1"
    assert stream.usage == Usage(4, 6, 10, __import__("decimal").Decimal("0.000150"))
    assert server.sent[0]["runRemaining"] is True and server.sent[0]["message"] == "hi"
    assert all(body.closed for body in server.served)


@pytest.mark.parametrize("mode", MODES)
def test_final_result_equals_what_execute_returns_for_the_run(
    router: respx.MockRouter, mode: Mode
) -> None:
    StepServer(router, Body(WHOLE_RUN))
    router.post(f"{FLOW}/execute").respond(
        200,
        json={
            "status": "completed",
            "result": "-- Ada",
            "flowId": "flow-9",
            "blockCount": 2,
            "executionId": "exec-1",
        },
    )
    _, stream, _ = consume(mode, lambda flow: flow.stream_text("hi", session_id="sess-1"))
    result = finish(mode, stream.final_result())
    executed = finish(mode, client(mode).flow("writer").execute("hi", session_id="sess-1"))
    assert result == executed
    assert result.session_id == executed.session_id == "sess-1"


@pytest.mark.parametrize("mode", MODES)
def test_step_keeps_one_steps_text(router: respx.MockRouter, mode: Mode) -> None:
    StepServer(router, Body(WHOLE_RUN))
    deltas, stream, _ = consume(mode, lambda flow: flow.stream_text("hi", step="sign"))
    assert deltas == ["-- Ada"] and stream.text == "-- Ada"


@pytest.mark.parametrize("mode", MODES)
def test_a_failed_step_raises_with_the_text_so_far(router: respx.MockRouter, mode: Mode) -> None:
    failed = sse(StepFailed, step_id="sign", error={"code": "BOOM", "message": "no ink"})
    StepServer(router, Body([RUN, *WRITE, sse(StepStarted, step_id="sign"), failed]))
    _, stream, error = consume(mode, lambda flow: flow.stream_text("hi"))
    assert isinstance(error, FlowExecutionError) and error.code == "BOOM"
    assert "no ink" in str(error) and error.execution_id == "exec-1"
    assert stream.text == "Hello, world"
    with pytest.raises(RuntimeError, match="before the run finished"):
        finish(mode, stream.final_result())


@pytest.mark.parametrize("mode", MODES)
def test_break_closes_the_connection_at_once(router: respx.MockRouter, mode: Mode) -> None:
    server = StepServer(router, Body(WHOLE_RUN))
    deltas, stream, _ = consume(mode, lambda flow: flow.stream_text("hi"), stop_after=1)
    assert deltas == ["Hello"]
    assert server.served[0].closed
    with pytest.raises(RuntimeError, match="no final result"):
        finish(mode, stream.final_result())


TOOL_CALLS = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
PAUSE = sse(
    ToolCallsRequired,
    run_id="r",
    execution_id="exec-1",
    step_id="write",
    step_index=0,
    iterations_used=1,
    tool_call_messages=[{"role": "assistant", "tool_calls": TOOL_CALLS}],
    tool_calls=TOOL_CALLS,
    accumulated_outputs={},
)


@pytest.mark.parametrize("mode", MODES)
def test_tool_pauses_go_through_the_tool_handler(router: respx.MockRouter, mode: Mode) -> None:
    server = StepServer(
        router, Body([RUN, sse(StepStarted, step_id="write"), PAUSE]), Body(WHOLE_RUN)
    )
    calls: list[Any] = []

    def handler(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        calls.append(tool_calls)
        return [{"tool_call_id": "c1", "output": "sunny"}]

    deltas, _, error = consume(mode, lambda flow: flow.stream_text("hi", tool_handler=handler))
    assert error is None and calls == [TOOL_CALLS]
    assert deltas == ["Hello", ", world", "-- Ada"]
    assert server.sent[1]["toolCallMessages"][-1]["content"] == "sunny"


@pytest.mark.parametrize("mode", MODES)
def test_a_tool_pause_without_handler_is_a_clear_error(
    router: respx.MockRouter, mode: Mode
) -> None:
    StepServer(router, Body([RUN, PAUSE]))
    _, _, error = consume(mode, lambda flow: flow.stream_text("hi"))
    assert isinstance(error, FlowExecutionError) and error.code == "TOOL_HANDLER_REQUIRED"
    assert "stream_text() was called without tool_handler" in str(error)


def test_helpers_take_the_same_arguments_as_events_and_check_them_at_call_time() -> None:
    flow = Noukai("nk_test", org="acme", project="main").flow("writer")
    with pytest.raises(ValueError, match="stream_text\\(\\) cannot run the draft"):
        flow.stream_text("hi", version="draft")
    with pytest.raises(ValueError, match="auto_resume must be 0 or more"):
        flow.stream_object(dict, "hi", auto_resume=-1)
    with pytest.raises(TypeError, match="auto_resume must be an int"):
        flow.events("hi", auto_resume=True)
    with pytest.raises(TypeError, match="tools must be a list"):
        flow.stream_text("hi", tools={"type": "function"})


# --- stream_object ---------------------------------------------------------------------------


class Invoice(BaseModel):
    number: str
    total: float
    lines: list[str]
    paid: bool | None


INVOICE = {
    "number": "F-1\n\u00e9",
    "total": -12.5e1,
    "lines": ["caf\u00e9", "t\u00e9 \U0001f375"],
    "paid": None,
}
INVOICE_TEXT = json.dumps(INVOICE, ensure_ascii=False)


def extends(old: Any, new: Any) -> bool:
    """Whether ``new`` keeps all of ``old`` (a full walk, independent of the SDK's check)."""
    if isinstance(old, dict):
        return (
            isinstance(new, dict)
            and list(new)[: len(old)] == list(old)
            and all(extends(value, new[key]) for key, value in old.items())
        )
    if isinstance(old, list):
        return (
            isinstance(new, list)
            and len(new) >= len(old)
            and all(extends(a, b) for a, b in zip(old, new, strict=False))
        )
    if isinstance(old, str):
        return isinstance(new, str) and new.startswith(old)
    return type(old) is type(new) and old == new


def assert_monotone(snapshots: list[Any]) -> None:
    for before, after in itertools.pairwise(snapshots):
        assert before != after, snapshots
        assert extends(before, after), (before, after)


def object_run(pieces: Sequence[str], *, completed: bool = True, fail: bool = False) -> Body:
    frames = [RUN, sse(StepStarted, step_id="write")]
    frames += [sse(StepOutput, step_id="write", output_data={"delta": p}) for p in pieces]
    if completed:
        text = "".join(pieces)
        frames += [sse(StepCompleted, step_id="write", output=text)]
        frames += [sse(FlowCompleted, execution_id="exec-1", result=text)]
    return Body(frames, fail=fail)


@pytest.mark.parametrize("mode", MODES)
def test_snapshots_grow_then_the_final_object_validates(
    router: respx.MockRouter, mode: Mode
) -> None:
    StepServer(router, object_run(list(INVOICE_TEXT)))
    snapshots, stream, error = consume(mode, lambda flow: flow.stream_object(Invoice, "bill"))
    assert error is None
    assert isinstance(stream, ObjectStream if mode == "sync" else AsyncObjectStream)
    assert_monotone(snapshots)
    assert snapshots[-1] == INVOICE
    assert len(snapshots) > 5
    assert finish(mode, stream.final_object()) == Invoice.model_validate(INVOICE)
    assert stream.text == INVOICE_TEXT


@pytest.mark.parametrize("mode", MODES)
def test_a_stream_cut_at_every_offset_gives_monotone_snapshots_then_an_answer(
    router: respx.MockRouter, mode: Mode
) -> None:
    text = INVOICE_TEXT
    offsets = range(len(text) + 1)
    bodies: list[Body] = []
    for offset in offsets:
        head, tail = text[:offset], text[offset:]
        bodies += [
            object_run([p for p in (head, tail) if p]),  # split there: the same object
            object_run(list(head)),  # the run ends with the text cut there
            object_run(list(head), completed=False, fail=True),  # the connection drops there
        ]
    StepServer(router, *bodies)
    outcomes = consume_all(mode, [lambda flow: flow.stream_object(Invoice, "b")] * len(bodies))
    for offset in offsets:
        split, truncated, dropped = outcomes[3 * offset : 3 * offset + 3]
        for snapshots, _, _ in (split, truncated, dropped):
            assert_monotone(snapshots)
        snapshots, stream, error = split
        assert error is None and snapshots[-1] == INVOICE, offset
        assert finish(mode, stream.final_object()).total == -125.0
        snapshots, stream, error = truncated
        assert error is None
        if offset < len(text):
            with pytest.raises(OutputValidationError) as raised:
                finish(mode, stream.final_object())
            assert raised.value.raw_output == text[:offset]
            assert raised.value.execution_id == "exec-1"
        _, _, error = dropped
        assert isinstance(error, StreamInterruptedError) and error.execution_id == "exec-1"


@pytest.mark.parametrize("mode", MODES)
def test_an_output_arriving_whole_is_the_one_snapshot(router: respx.MockRouter, mode: Mode) -> None:
    frames = [
        RUN,
        sse(StepStarted, step_id="write"),
        sse(StepOutput, step_id="write", output_data=INVOICE),
        sse(StepCompleted, step_id="write", output=INVOICE),
        sse(FlowCompleted, execution_id="exec-1", result=INVOICE),
    ]
    StepServer(router, Body(frames))
    snapshots, stream, _ = consume(mode, lambda flow: flow.stream_object(Invoice, "b"))
    assert snapshots == [INVOICE]
    assert finish(mode, stream.final_object()).lines == INVOICE["lines"]


@pytest.mark.parametrize("mode", MODES)
def test_a_mismatch_is_an_output_validation_error(router: respx.MockRouter, mode: Mode) -> None:
    wrong = {**INVOICE, "total": "12"}
    StepServer(router, object_run([json.dumps(wrong)]))
    snapshots, stream, _ = consume(mode, lambda flow: flow.stream_object(Invoice, "b"))
    assert snapshots == [wrong]
    with pytest.raises(OutputValidationError) as raised:
        finish(mode, stream.final_object())
    assert raised.value.errors[0]["loc"] == ("total",)
    assert raised.value.raw_output == json.dumps(wrong)
    assert "total" in str(raised.value) and "Invoice" in str(raised.value)


class Delivery(BaseModel):
    when: datetime
    count: int


@pytest.mark.parametrize("mode", MODES)
def test_the_final_object_is_strict_json_while_execute_output_type_is_lax(
    router: respx.MockRouter, mode: Mode
) -> None:
    when = "2026-12-01T10:00:00Z"
    whole = [RUN, sse(StepCompleted, step_id="write", output={"when": when, "count": 3})]
    StepServer(
        router,
        object_run([f'{{"when": "{when}", ', '"count": 3}']),  # JSON text
        Body([*whole, sse(FlowCompleted, execution_id="exec-1")]),  # a whole JSON value
        object_run([json.dumps({"when": when, "count": "3"})]),
    )
    outcomes = consume_all(mode, [lambda flow: flow.stream_object(Delivery, "d")] * 3)
    text, value, coerced = (stream.final_object for _, stream, _ in outcomes)
    # JSON mode: a datetime has no JSON literal, so its string spelling validates on both paths.
    assert (
        finish(mode, text())
        == finish(mode, value())
        == Delivery(when=datetime(2026, 12, 1, 10, tzinfo=timezone.utc), count=3)
    )
    with pytest.raises(OutputValidationError, match="count") as raised:
        finish(mode, coerced())
    assert raised.value.errors[0]["type"] == "int_type"
    # The same output handed over whole by execute(output_type=) is validated the lax way.
    router.post(f"{FLOW}/execute").respond(
        200,
        json={
            "status": "completed",
            "result": {"when": when, "count": "3"},
            "flowId": "flow-9",
            "blockCount": 1,
            "executionId": "exec-2",
        },
    )
    flow = client(mode).flow("writer")
    result = finish(mode, flow.execute("d", output_type=Delivery))
    assert result.parsed == Delivery(when=datetime(2026, 12, 1, 10, tzinfo=timezone.utc), count=3)


@pytest.mark.parametrize("mode", MODES)
def test_a_fenced_json_answer_is_read(router: respx.MockRouter, mode: Mode) -> None:
    StepServer(router, object_run(["```json\n", INVOICE_TEXT[:20], INVOICE_TEXT[20:], "\n```"]))
    snapshots, stream, _ = consume(mode, lambda flow: flow.stream_object(Invoice, "b"))
    assert_monotone(snapshots)
    assert finish(mode, stream.final_object()).number == INVOICE["number"]


@pytest.mark.parametrize("mode", MODES)
def test_many_small_deltas_are_not_each_reparsed(router: respx.MockRouter, mode: Mode) -> None:
    big = {"items": [f"item {i}" for i in range(2000)]}
    text = json.dumps(big)
    StepServer(router, object_run([text[i : i + 4] for i in range(0, len(text), 4)]))
    snapshots, stream, _ = consume(mode, lambda flow: flow.stream_object(dict, "b"))
    assert_monotone(snapshots)
    assert snapshots[-1] == big
    assert len(snapshots) < 100 < len(text) // 4
    assert finish(mode, stream.final_object()) == big


# --- auto_resume -------------------------------------------------------------------------------

STEPS: dict[int, list[bytes]] = {
    0: [
        sse(StepStarted, step_id="a", step_index=0),
        sse(StepInput, step_id="a", input_data={"message": "hi"}),
        sse(StepOutput, step_id="a", output_data={"delta": "one "}),
        sse(StepOutput, step_id="a", output_data={"delta": "two "}),
        sse(StepCompleted, step_id="a", step_index=0, output="one two "),
    ],
    1: [
        sse(StepStarted, step_id="b", step_index=1),
        sse(StepOutput, step_id="b", output_data="three"),
        sse(StepCompleted, step_id="b", step_index=1, output="three"),
    ],
}
END = sse(FlowCompleted, execution_id="exec-1", result="three")


def segment_from(step_index: int) -> list[bytes]:
    """What the server streams for a ``/step`` call at ``step_index`` (the step runs again)."""
    frames = [sse(RunStarted, run_id="r", execution_id="exec-1", flow_id="f", step_count=2)]
    for index in range(step_index, 2):
        frames += STEPS[index]
    return [*frames, END]


ALL_EVENTS = segment_from(0)


class ResumingServer:
    """Cuts the first stream after ``k`` events; later calls stream from the requested cursor."""

    def __init__(self, router: respx.MockRouter, k: int, *, drops: int = 1) -> None:
        self.k, self.drops = k, drops
        self.sent: list[dict[str, Any]] = []
        router.post(f"{FLOW}/step").mock(side_effect=self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.sent.append(body)
        frames = segment_from(body["stepIndex"])
        if len(self.sent) <= self.drops:
            stream = Body(frames[: self.k] if len(self.sent) == 1 else frames[:1], fail=True)
        else:
            stream = Body(frames)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)


def wire(event: Any) -> bytes:
    return sse(type(event), **event.model_dump())


@pytest.mark.parametrize("mode", MODES)
def test_auto_resume_after_the_kth_event_delivers_every_event_once(
    router: respx.MockRouter, mode: Mode, sleeps: list[float]
) -> None:
    for k in range(1, len(ALL_EVENTS)):
        log: list[dict[str, Any]] = []
        server = ResumingServer(router, k)
        events, _, error = consume(
            mode,
            lambda flow: flow.events("hi", run_remaining=True, auto_resume=1),
            log_handler=log.append,
        )
        assert error is None, (k, error)
        assert [wire(e) for e in events] == ALL_EVENTS, k
        resume = server.sent[1]
        assert resume["executionId"] == "exec-1" and "message" not in resume
        assert resume["stepIndex"] == (0 if k < 6 else 1 if k < 9 else 2), k
        retries = [e for e in log if e["phase"] == "retry"]
        assert [r["reason"] for r in retries] == ["stream_interrupted"], k
    assert len(sleeps) == len(ALL_EVENTS) - 1
    assert all(0.375 <= delay <= 0.625 for delay in sleeps)


@pytest.mark.parametrize("mode", MODES)
def test_stream_text_resumes_without_repeating_text(
    router: respx.MockRouter, mode: Mode, sleeps: list[float]
) -> None:
    for k in range(2, len(ALL_EVENTS)):
        ResumingServer(router, k)
        deltas, stream, error = consume(mode, lambda flow: flow.stream_text("hi", auto_resume=2))
        assert error is None
        assert deltas == ["one ", "two ", "three"], k
        assert finish(mode, stream.final_result()).result == "three"


@pytest.mark.parametrize("mode", MODES)
def test_resumes_are_bounded_and_back_off(
    router: respx.MockRouter, mode: Mode, sleeps: list[float]
) -> None:
    ResumingServer(router, 4, drops=3)
    events, _, error = consume(mode, lambda flow: flow.events("hi", auto_resume=2))
    assert isinstance(error, StreamInterruptedError) and error.execution_id == "exec-1"
    assert len(events) == 4
    assert len(sleeps) == 2 and 0.75 <= sleeps[1] <= 1.25


@pytest.mark.parametrize("mode", MODES)
def test_without_auto_resume_a_cut_stream_raises(
    router: respx.MockRouter, mode: Mode, sleeps: list[float]
) -> None:
    ResumingServer(router, 4)
    events, _, error = consume(mode, lambda flow: flow.steps("hi"))
    assert isinstance(error, StreamInterruptedError) and error.step_index == 0
    assert events == [] and sleeps == []


@pytest.mark.parametrize("mode", MODES)
def test_a_stream_cut_before_the_run_started_is_not_resumed(
    router: respx.MockRouter, mode: Mode, sleeps: list[float]
) -> None:
    server = ResumingServer(router, 0)
    _, _, error = consume(mode, lambda flow: flow.events("hi", auto_resume=3))
    assert isinstance(error, StreamInterruptedError) and error.execution_id is None
    assert len(server.sent) == 1 and sleeps == []


@pytest.mark.parametrize("mode", MODES)
def test_a_server_still_busy_with_the_cut_stream_is_asked_again(
    router: respx.MockRouter, mode: Mode, sleeps: list[float]
) -> None:
    busy = httpx.Response(
        409, json={"detail": {"code": "EXECUTION_BUSY", "message": "being advanced"}}
    )
    server = StepServer(router, Body(ALL_EVENTS[:4], fail=True), busy, Body(segment_from(0)))
    events, _, error = consume(mode, lambda flow: flow.steps("hi", auto_resume=2))
    assert error is None and [e.step_id for e in events] == ["a", "b"]
    assert len(server.sent) == 3 and len(sleeps) == 2


@pytest.mark.parametrize("mode", MODES)
def test_a_rerun_with_other_output_warns(
    router: respx.MockRouter, mode: Mode, sleeps: list[float]
) -> None:
    different = [
        sse(RunStarted, run_id="r", execution_id="exec-1"),
        sse(StepStarted, step_id="a", step_index=0),
        sse(StepInput, step_id="a", input_data={"message": "hi"}),
        sse(StepOutput, step_id="a", output_data={"delta": "uno "}),
        sse(StepOutput, step_id="a", output_data={"delta": "dos"}),
        sse(StepCompleted, step_id="a", step_index=0, output="uno dos"),
        END,
    ]
    StepServer(router, Body(ALL_EVENTS[:4], fail=True), Body(different))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        deltas, _, error = consume(mode, lambda flow: flow.stream_text("hi", auto_resume=1))
    assert error is None and deltas == ["one ", "dos"]
    assert any("ran again" in str(w.message) for w in caught)


# --- replay --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_helpers_replay_recorded_runs(
    router: respx.MockRouter, mode: Mode, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", "true")
    recorded = session(
        execution(
            "exec-7",
            "writer",
            trigger="step",
            steps=[step("write", "Hello"), step("json", INVOICE_TEXT)],
        ),
        execution("exec-8", "writer", trigger="step", steps=[step("whole", INVOICE)]),
    )
    router.get(f"/seq/sessions/{SESSION_ID}").respond(200, content=wire_bytes(recorded))
    live = router.post(f"{FLOW}/step")

    if mode == "sync":
        noukai = Noukai("nk_test", org="acme", project="main")
        with trace_scope_sync(client=noukai, replay_session_id=SESSION_ID):
            flow = noukai.flow("writer")
            with flow.stream_text("ignored") as text:
                deltas = list(text)
            with flow.stream_object(Invoice, "ignored") as objects:
                snapshots = list(objects)
                invoice = objects.final_object()
    else:

        async def run() -> tuple[list[str], list[Any], Invoice, Any]:
            noukai = AsyncNoukai("nk_test", org="acme", project="main")
            async with trace_scope(client=noukai, replay_session_id=SESSION_ID):
                flow = noukai.flow("writer")
                async with flow.stream_text("ignored") as text:
                    deltas = [d async for d in text]
                async with flow.stream_object(Invoice, "ignored") as objects:
                    snapshots = [s async for s in objects]
                    invoice = await objects.final_object()
                return deltas, snapshots, invoice, text

        deltas, snapshots, invoice, text = asyncio.run(run())
    assert deltas == ["Hello", INVOICE_TEXT]
    assert text.execution_id == "exec-7"
    assert snapshots == [INVOICE] and invoice == Invoice.model_validate(INVOICE)
    assert not live.called
