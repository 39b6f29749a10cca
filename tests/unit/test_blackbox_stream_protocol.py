"""``steps()``/``events()`` from the outside (the step protocol, its events and its failure modes):
event attributes, request bodies on every ``/step`` call, tool pauses and servers that misbehave."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import httpx
import pytest
import respx

from noukai_sdk import (
    APIResponseValidationError,
    AsyncNoukai,
    FlowCompleted,
    FlowExecutionError,
    Noukai,
    RunStarted,
    StepCompleted,
    StepFailed,
    StepPaused,
    StepStarted,
    StreamEvent,
    ToolCallLimitError,
    ToolCallsRequired,
)
from noukai_sdk._core.events import wire_event_type

BASE = "https://api.noukai.dev/api/v1"
STEP_PATH = "/seq/acme/main/grade-3/step"
Mode = Literal["sync", "async"]
MODES: list[Mode] = ["sync", "async"]
TOOL_CALLS = [{"id": "call-1", "type": "function", "function": {"name": "w", "arguments": "{}"}}]


def sse(cls: type[StreamEvent], **fields: Any) -> bytes:
    payload = cls.model_validate(fields).to_wire()
    return f"event: {wire_event_type(cls)}\ndata: {json.dumps(payload)}\n\n".encode()


def tool_pause(step_index: int = 1) -> bytes:
    return sse(
        ToolCallsRequired,
        run_id="run-1",
        execution_id="exec-1",
        step_id="b",
        step_index=step_index,
        iterations_used=1,
        tool_call_messages=[{"role": "assistant", "tool_calls": TOOL_CALLS}],
        tool_calls=TOOL_CALLS,
        accumulated_outputs={"a": 1},
    )


FIRST = (
    sse(RunStarted, run_id="run-1", execution_id="exec-1")
    + sse(StepStarted, step_id="a")
    + sse(StepCompleted, step_id="a", output=1)
    + sse(StepPaused, step_id="a", step_index=1)
)
LAST = sse(StepCompleted, step_id="b", output=2) + sse(FlowCompleted, execution_id="exec-1")


class Server:
    """Answers consecutive ``/step`` calls with scripted bodies; records what was sent."""

    def __init__(self, router: respx.MockRouter, bodies: Sequence[bytes]) -> None:
        self.bodies = list(bodies)
        self.sent: list[dict[str, Any]] = []
        self.session_ids: list[str | None] = []
        router.post(STEP_PATH).mock(side_effect=self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(json.loads(request.content))
        self.session_ids.append(request.headers.get("x-session-id"))
        body = self.bodies[min(len(self.sent), len(self.bodies)) - 1]
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def iterate(
    mode: Mode, *, only_steps: bool = False, resume: Any = None, **options: Any
) -> list[Any]:
    """Run ``events()`` (or ``steps()``) to the end, answering tool pauses with ``resume``."""
    if mode == "sync":
        with Noukai("nk_test", org="acme", project="main", session_id="client-sid") as client:
            flow = client.flow("grade-3")
            stream = flow.steps(**options) if only_steps else flow.events(**options)
            events = []
            for event in stream:
                events.append(event)
                if isinstance(event, ToolCallsRequired) and resume is not None:
                    event.resume_sync(resume)
            return events

    async def run() -> list[Any]:
        async with AsyncNoukai(
            "nk_test", org="acme", project="main", session_id="client-sid"
        ) as client:
            flow = client.flow("grade-3")
            stream = flow.steps(**options) if only_steps else flow.events(**options)
            events = []
            async for event in stream:
                events.append(event)
                if isinstance(event, ToolCallsRequired) and resume is not None:
                    await event.resume(resume)
            return events

    return asyncio.run(run())


@pytest.mark.parametrize("mode", MODES)
def test_events_carry_type_event_type_and_step_index(router: respx.MockRouter, mode: Mode) -> None:
    Server(router, [FIRST, sse(StepStarted, step_id="b") + LAST])
    events = iterate(mode, message="hi")
    assert [(event.type, event.event_type) for event in events] == [
        ("run_started", "run_started"),
        ("step_started", "step_started"),
        ("step_completed", "step_completed"),
        ("step_paused", "step_paused"),
        ("step_started", "step_started"),
        ("step_completed", "step_completed"),
        ("flow_completed", "flow_completed"),
    ]
    indexed = [(e.type, e.step_index) for e in events if isinstance(e, StepStarted | StepCompleted)]
    assert indexed == [
        ("step_started", 0),
        ("step_completed", 0),
        ("step_started", 1),
        ("step_completed", 1),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_every_step_call_carries_the_cursor_and_the_session_id(
    router: respx.MockRouter, mode: Mode
) -> None:
    server = Server(router, [FIRST, tool_pause(), LAST])
    results = [{"tool_call_id": "call-1", "output": {"weather": "sun"}}]
    iterate(
        mode,
        resume=results,
        message="hi",
        parameters={"k": 1},
        input_overrides={"i": 1},
        trace=True,
    )
    first, second, third = server.sent
    assert first["message"] == "hi" and first["parameters"] == {"k": 1}
    assert first["stepIndex"] == 0 and "executionId" not in first
    assert "message" not in second and second["parameters"] == {}
    assert (second["executionId"], second["stepIndex"]) == ("exec-1", 1)
    assert second["accumulatedOutputs"] == {"a": 1}
    assert third["toolCallMessages"][-1] == {
        "role": "tool",
        "tool_call_id": "call-1",
        "content": json.dumps({"weather": "sun"}),
    }
    assert third["iterationsUsed"] == 1
    for body in server.sent:
        assert body["inputOverrides"] == {"i": 1}
        assert body["runRemaining"] is False and body["trace"] is True
    assert server.session_ids == ["client-sid"] * 3


@pytest.mark.parametrize("mode", MODES)
def test_steps_yields_only_completions_and_raises_on_a_step_error(
    router: respx.MockRouter, mode: Mode
) -> None:
    failure = sse(StepFailed, step_id="b", error={"code": "BOOM", "message": "it broke"})
    Server(router, [FIRST, sse(StepStarted, step_id="b") + failure])
    with pytest.raises(FlowExecutionError, match="it broke") as info:
        iterate(mode, only_steps=True, message="hi")
    assert info.value.code == "BOOM"
    assert info.value.execution_id == "exec-1"
    Server(router, [FIRST, sse(StepStarted, step_id="b") + failure])
    events = iterate(mode, message="hi")
    assert isinstance(events[-1], StepFailed)


@pytest.mark.parametrize("mode", MODES)
def test_an_automatic_tool_handler_answers_pauses_that_are_never_yielded(
    router: respx.MockRouter, mode: Mode
) -> None:
    server = Server(router, [FIRST, tool_pause(), LAST])
    seen: list[Any] = []

    def handler(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen.append(calls)
        return [{"role": "tool", "tool_call_id": "call-1", "content": "sun"}]

    events = iterate(mode, only_steps=True, message="hi", tool_handler=handler)
    assert [event.step_id for event in events] == ["a", "b"]
    assert seen == [TOOL_CALLS]
    assert server.sent[2]["toolCallMessages"][-1]["content"] == "sun"


@pytest.mark.parametrize("mode", MODES)
def test_the_tool_round_limit_raises_with_the_execution_id(
    router: respx.MockRouter, mode: Mode
) -> None:
    server = Server(router, [tool_pause()])
    with pytest.raises(ToolCallLimitError) as info:
        iterate(
            mode,
            message="hi",
            max_tool_rounds=2,
            tool_handler=lambda calls: [{"tool_call_id": "call-1", "output": "x"}],
        )
    assert (info.value.code, info.value.execution_id) == ("TOOL_CALL_LIMIT_CLIENT", "exec-1")
    assert len(server.sent) == 3


@pytest.mark.parametrize("mode", MODES)
def test_a_manual_pause_that_is_not_resumed_stops_instead_of_looping(
    router: respx.MockRouter, mode: Mode
) -> None:
    server = Server(router, [tool_pause()])
    with pytest.raises(FlowExecutionError, match="resume"):
        iterate(mode, message="hi")
    assert len(server.sent) == 1


@pytest.mark.parametrize("mode", MODES)
def test_steps_without_a_tool_handler_explains_the_pause(
    router: respx.MockRouter, mode: Mode
) -> None:
    Server(router, [tool_pause()])
    with pytest.raises(FlowExecutionError, match="tool_handler"):
        iterate(mode, only_steps=True, message="hi")


@pytest.mark.parametrize("mode", MODES)
def test_a_server_that_keeps_pausing_without_progress_is_not_polled_forever(
    router: respx.MockRouter, mode: Mode
) -> None:
    stuck = sse(RunStarted, run_id="run-1", execution_id="exec-1") + sse(StepPaused, step_id="a")
    server = Server(router, [stuck])
    with pytest.raises(APIResponseValidationError, match="without completing a step") as info:
        iterate(mode, message="hi")
    assert info.value.execution_id == "exec-1"
    assert len(server.sent) <= 4


@pytest.mark.parametrize("mode", MODES)
def test_a_draft_version_is_refused_before_any_request(
    router: respx.MockRouter, mode: Mode
) -> None:
    server = Server(router, [LAST])
    with pytest.raises(ValueError, match="draft"):
        iterate(mode, message="hi", version="draft")
    assert server.sent == []
