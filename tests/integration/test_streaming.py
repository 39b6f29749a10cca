"""steps()/events()/live_trace() against a real dev server over TCP."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from noukai_sdk import (
    AsyncNoukai,
    FlowCompleted,
    FlowExecutionError,
    Noukai,
    RunStarted,
    StepCompleted,
    StepPaused,
    StepStarted,
    StreamEvent,
    ToolCallsRequired,
)

TWO_STEP = "demo/examples/two-step"
TOOLS = "demo/examples/tools-enabled"
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather"}}


def kinds(events: list[StreamEvent]) -> list[str]:
    return [event.type for event in events]


def weather(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A tool handler: a sunny answer for every requested city."""
    results: list[dict[str, Any]] = []
    for call in calls:
        city = json.loads(call["function"]["arguments"])["city"]
        results.append({"role": "tool", "tool_call_id": call["id"], "content": f"sunny in {city}"})
    return results


def test_two_step_one_step_per_call(client: Noukai) -> None:
    with client.flow(TWO_STEP).events("hello world") as stream:
        events = list(stream)

    assert isinstance(events[0], RunStarted) and events[0].execution_id
    assert isinstance(events[-1], FlowCompleted)
    assert kinds(events).count("step_paused") == 1
    completed = [e for e in events if isinstance(e, StepCompleted)]
    assert [(e.step_id, e.step_index) for e in completed] == [("draft", 0), ("polish", 1)]
    for event in completed:
        assert event.tokens is not None and event.tokens.total > 0
        assert event.cost_usd is not None and Decimal(event.cost_usd) >= 0
    started = [e.step_index for e in events if isinstance(e, StepStarted)]
    assert started == [0, 1]
    paused = next(e for e in events if isinstance(e, StepPaused))
    assert paused.step_index == 1
    assert events[-1].result == completed[-1].output


def test_two_step_with_run_remaining_streams_everything_in_one_call(client: Noukai) -> None:
    events = list(client.flow(TWO_STEP).events("hello world", run_remaining=True))
    assert "step_paused" not in kinds(events)
    assert kinds(events).count("run_started") == 1
    assert isinstance(events[-1], FlowCompleted)
    assert [e.step_id for e in events if isinstance(e, StepCompleted)] == ["draft", "polish"]


def test_steps_yields_only_completions(client: Noukai) -> None:
    completed = list(client.flow(TWO_STEP).steps("hello world", session_id="sess-stream-1"))
    assert [e.step_id for e in completed] == ["draft", "polish"]
    assert "hello world" in str(completed[0].output)


def test_failing_flow_raises_in_steps_and_ends_events(client: Noukai) -> None:
    flow = client.flow("demo/examples/failing")
    with pytest.raises(FlowExecutionError) as caught:
        list(flow.steps("x"))
    assert caught.value.code and caught.value.execution_id
    events = list(flow.events("x", run_remaining=True))
    assert events[-1].type == "step_error"


def test_tools_enabled_via_events_with_a_handler(client: Noukai) -> None:
    calls: list[list[dict[str, Any]]] = []

    def handler(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        calls.append(tool_calls)
        return weather(tool_calls)

    events = list(client.flow(TOOLS).events("Paris", tools=[WEATHER_TOOL], tool_handler=handler))
    assert calls, "the handler was never called"
    assert "tool_calls_required" not in kinds(events)
    assert isinstance(events[-1], FlowCompleted)
    assert "sunny in" in json.dumps(events[-1].result)


def test_tools_enabled_via_events_with_manual_resume(client: Noukai) -> None:
    pauses = 0
    last: StreamEvent | None = None
    with client.flow(TOOLS).events("Tokyo", tools=[WEATHER_TOOL]) as stream:
        for event in stream:
            if isinstance(event, ToolCallsRequired):
                pauses += 1
                event.resume_sync(weather(event.tool_calls))
            last = event
    assert pauses >= 1
    assert isinstance(last, FlowCompleted)


async def test_async_events_with_manual_resume(async_client: AsyncNoukai) -> None:
    seen: list[str] = []
    async with async_client.flow(TOOLS).events("Rome", tools=[WEATHER_TOOL]) as stream:
        async for event in stream:
            seen.append(event.type)
            if isinstance(event, ToolCallsRequired):
                await event.resume(
                    [
                        {"tool_call_id": call["id"], "output": {"forecast": "rain"}}
                        for call in event.tool_calls
                    ]
                )
    assert "tool_calls_required" in seen and seen[-1] == "flow_completed"


async def test_async_steps_two_step(async_client: AsyncNoukai) -> None:
    async with async_client.flow(TWO_STEP).steps("hello") as stream:
        steps = [event.step_id async for event in stream]
    assert steps == ["draft", "polish"]


def test_breaking_off_many_times_keeps_the_client_usable(client: Noukai) -> None:
    flow = client.flow(TWO_STEP)
    for _ in range(30):
        for _event in flow.events("again"):
            break
    assert [e.step_id for e in flow.steps("finally")] == ["draft", "polish"]


def test_live_trace_of_a_finished_run(client: Noukai) -> None:
    events = list(client.flow(TWO_STEP).events("trace me", run_remaining=True))
    started = events[0]
    assert isinstance(started, RunStarted) and started.execution_id
    run = client.flow(TWO_STEP).run(started.execution_id)
    with run.live_trace(timeout=30) as stream:
        traced = list(stream)
    assert isinstance(traced[0], RunStarted) and isinstance(traced[-1], FlowCompleted)
