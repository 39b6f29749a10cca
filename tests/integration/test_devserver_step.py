"""POST …/step: the SSE step protocol, with and without runRemaining, and tool pauses."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather"}}
THREE = "seq/test/flows/three-step/step"


def first(message: str, **extra: Any) -> dict[str, Any]:
    return {
        "stepIndex": 0,
        "accumulatedOutputs": {},
        "message": message,
        "parameters": {},
        "inputOverrides": {},
        "runRemaining": False,
        "iterationsUsed": 0,
        "trace": False,
        **extra,
    }


def later(execution_id: str, step_index: int, **extra: Any) -> dict[str, Any]:
    return {
        "executionId": execution_id,
        "stepIndex": step_index,
        "accumulatedOutputs": {},
        "parameters": {},
        "inputOverrides": {},
        "runRemaining": False,
        "iterationsUsed": 0,
        "trace": False,
        **extra,
    }


def types(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [kind for kind, _ in events]


def test_each_call_runs_one_step_and_pauses(step: Any) -> None:
    status, events = step(THREE, first("hello world"))
    assert status == 200
    assert types(events) == [
        "run_started",
        "step_started",
        "step_input",
        "step_output",
        "step_completed",
        "step_paused",
    ]
    started = events[0][1]
    assert started["runId"] and started["executionId"] and started["stepCount"] == 3
    completed = events[4][1]
    assert completed["stepId"] == "one" and completed["stepIndex"] == 0
    assert (
        completed["tokens"]["total"]
        == completed["tokens"]["prompt"] + completed["tokens"]["completion"]
        > 0
    )
    assert isinstance(completed["costUsd"], str) and Decimal(completed["costUsd"]) > 0
    assert isinstance(completed["durationMs"], int)
    assert events[5][1] == {"eventType": "step_paused", "stepId": "one", "stepIndex": 1}

    execution_id = started["executionId"]
    _, second = step(THREE, later(execution_id, 1))
    assert types(second)[0] == "run_started"
    deltas = [p["outputData"]["delta"] for kind, p in second if kind == "step_output"]
    assert "".join(deltas) == "2 1 hello world"
    assert types(second)[-1] == "step_paused"

    _, third = step(THREE, later(execution_id, 2))
    assert types(third)[-2:] == ["step_completed", "flow_completed"]
    final = third[-1][1]
    assert final["executionId"] == execution_id
    assert final["result"] == {"previous": "2 1 hello world", "words": 2}


def test_run_remaining_streams_everything_without_pauses(step: Any) -> None:
    _, events = step(THREE, first("hi", runRemaining=True))
    kinds = types(events)
    assert kinds[0] == "run_started" and kinds[-1] == "flow_completed"
    assert "step_paused" not in kinds
    assert kinds.count("step_completed") == 3
    assert [p["stepIndex"] for k, p in events if k == "step_completed"] == [0, 1, 2]


def test_step_error_ends_the_stream(step: Any) -> None:
    _, events = step("seq/demo/examples/failing/step", first("x", runRemaining=True))
    assert types(events)[-1] == "step_error"
    error = events[-1][1]
    assert error["stepId"] == "explode"
    assert error["error"]["code"] == "FLOW_EXECUTION_ERROR"
    assert "flow_completed" not in types(events)


def test_step_request_errors(step: Any, http: httpx.Client) -> None:
    status, events = step(THREE, first("x", stepIndex=1))
    assert (status, events[0][1]["detail"]["code"]) == (400, "INVALID_FIRST_CALL")
    no_message = first("x")
    del no_message["message"]
    status, events = step(THREE, no_message)
    assert (status, events[0][1]["detail"]["code"]) == (400, "MISSING_MESSAGE")
    status, events = step(THREE, later("exec_missing", 1))
    assert (status, events[0][1]["detail"]["code"]) == (400, "EXECUTION_ID_INVALID")

    _, events = step(THREE, first("x"))
    execution_id = events[0][1]["executionId"]
    status, events = step(THREE, later(execution_id, 2))
    assert (status, events[0][1]["detail"]["code"]) == (400, "INVALID_STEP_INDEX")

    status, events = step("seq/test/flows/versioned/v0/step", first("x"))
    assert (status, events[0][1]["detail"]["code"]) == (400, "INVALID_VERSION")
    status, _ = step("seq/test/flows/versioned/v1/step", first("x"))
    assert status == 200


def test_tool_pause_inside_the_step_protocol(step: Any) -> None:
    path = "seq/demo/examples/tools-enabled/step"
    _, events = step(path, first("Berlin and Madrid", tools=[WEATHER_TOOL]))
    pause = events[-1]
    assert pause[0] == "step_paused_for_tool_calls"
    cursor = pause[1]
    assert (
        cursor["stepId"] == "weather" and cursor["stepIndex"] == 0 and cursor["iterationsUsed"] == 1
    )
    assert cursor["runId"] and cursor["accumulatedOutputs"] == {}
    cities = []
    while pause[0] == "step_paused_for_tool_calls":
        call = cursor["toolCalls"][0]
        cities.append(json.loads(call["function"]["arguments"])["city"])
        result = {"role": "tool", "tool_call_id": call["id"], "content": f"warm in {cities[-1]}"}
        _, events = step(
            path,
            later(
                cursor["executionId"],
                cursor["stepIndex"],
                tools=[WEATHER_TOOL],
                toolCallMessages=cursor["toolCallMessages"] + [result],
                iterationsUsed=cursor["iterationsUsed"],
            ),
        )
        pause = events[-1]
        cursor = pause[1]
    assert cities == ["Berlin", "Madrid"]
    assert pause[0] == "flow_completed"
    assert pause[1]["result"] == "Weather report: warm in Berlin; warm in Madrid"


def test_reissuing_a_tool_pause_without_results_pauses_again(step: Any) -> None:
    path = "seq/demo/examples/tools-enabled/step"
    _, events = step(path, first("Lisbon", tools=[WEATHER_TOOL]))
    cursor = events[-1][1]
    _, again = step(path, later(cursor["executionId"], cursor["stepIndex"], tools=[WEATHER_TOOL]))
    assert again[-1][0] == "step_paused_for_tool_calls"
    assert again[-1][1]["toolCalls"] == cursor["toolCalls"]
    assert again[-1][1]["iterationsUsed"] == cursor["iterationsUsed"]
    mismatch = {"role": "tool", "tool_call_id": "other", "content": "x"}
    status, error = step(
        path,
        later(
            cursor["executionId"],
            0,
            tools=[WEATHER_TOOL],
            toolCallMessages=cursor["toolCallMessages"] + [mismatch],
        ),
    )
    assert (status, error[0][1]["detail"]["code"]) == (400, "TOOL_RESULTS_MISMATCH")


def test_sse_bytes_are_lf_framed(http: httpx.Client) -> None:
    response = http.post("seq/demo/examples/hello-world/step", json=first("x", runRemaining=True))
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "x-request-id" in response.headers
    assert "\r" not in response.text
    assert response.text.startswith("event: run_started\ndata: {")
    assert response.text.endswith("\n\n")


def test_loop_steps_report_progress_and_completion(step: Any) -> None:
    _, events = step("seq/test/flows/looped/step", first("go", runRemaining=True))
    progress = [p for kind, p in events if kind == "step_progress"]
    assert [p["progress"] for p in progress] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert progress[0]["message"] == "iteration 1 of 3"
    [loop] = [p for kind, p in events if kind == "loop_completed"]
    assert loop["stepId"] == "repeat" and loop["iterations"] == 3 and loop["stepIndex"] == 0
    assert loop["output"] == ["round 0: go", "round 1: go", "round 2: go"]
    assert types(events)[-1] == "flow_completed"
