"""Rebuilding results and events from recordings."""

from __future__ import annotations

import pytest
from test_replay_helpers import execution, step

from noukai_sdk._core.errors import FlowExecutionError
from noukai_sdk._core.events import (
    FlowCompleted,
    RunStarted,
    StepCompleted,
    StepFailed,
    StepStarted,
)
from noukai_sdk._replay._reconstruction import (
    plan_replay,
    replayed_events,
    replayed_result,
    replayed_steps,
    strip_rendered_prompt,
)


def test_the_rendered_prompt_sidecar_is_dropped_at_the_top_level_only() -> None:
    output = {"y": 2, "__rendered_prompt__": "Q", "nested": {"__rendered_prompt__": "R"}}
    assert strip_rendered_prompt(output) == {"y": 2, "nested": {"__rendered_prompt__": "R"}}
    assert "__rendered_prompt__" in output
    assert strip_rendered_prompt("text") == "text"
    assert strip_rendered_prompt([{"__rendered_prompt__": 1}]) == [{"__rendered_prompt__": 1}]


def test_execute_result_of_a_completed_recording() -> None:
    recording = execution(
        "exec-1",
        steps=[step("s-1", {"a": 1}), step("s-2", {"b": 2, "__rendered_prompt__": "P"})],
    )
    result = replayed_result(plan_replay(recording), session_id="sess")
    assert result.status == "completed"
    assert result.result == {"b": 2}
    assert result.execution_id == "exec-1"
    assert result.flow_id == "flow-1"
    assert result.block_count == 2
    assert result.session_id == "sess"


def test_retry_attempts_collapse_into_the_last_attempt_of_each_step() -> None:
    recording = execution(
        "exec-1",
        steps=[
            step("s-1", None, attempt=1, status="failed"),
            step("s-1", {"second": True}, attempt=2),
            step("loop", "l0", loop_index=0),
            step("loop", "l1", loop_index=1),
        ],
    )
    plan = plan_replay(recording)
    assert [(s.step_id, s.step_index, s.output) for s in plan.completed] == [
        ("s-1", 0, {"second": True}),
        ("loop", 1, "l0"),
        ("loop", 2, "l1"),
    ]
    assert plan.result == "l1"


def test_a_recorded_error_raises_with_its_code_and_execution_id() -> None:
    recording = execution(
        "exec-9",
        status="failed",
        error_at_step="s-2",
        steps=[step("s-1", "ok"), step("s-2", error={"code": "BOOM", "message": "model failed"})],
    )
    with pytest.raises(FlowExecutionError, match="model failed") as info:
        replayed_result(plan_replay(recording), session_id="sess")
    assert info.value.code == "BOOM"
    assert info.value.execution_id == "exec-9"
    assert info.value.status_code is None


def test_a_failed_recording_without_error_at_step_still_fails() -> None:
    recording = execution("exec-c", status="cancelled", steps=[step("s-1", "partial")])
    with pytest.raises(FlowExecutionError, match="ended with status 'cancelled'"):
        replayed_result(plan_replay(recording), session_id="sess")


def test_a_missing_error_snapshot_is_reported_plainly() -> None:
    recording = execution("exec-x", status="failed", error_at_step="s-2", steps=[step("s-1", 1)])
    with pytest.raises(
        FlowExecutionError, match="failed at step 's-2' but error_snapshot is unavailable"
    ):
        replayed_result(plan_replay(recording), session_id="sess")


def test_events_follow_a_live_run_with_step_indexes() -> None:
    recording = execution("exec-1", steps=[step("s-1", {"a": 1}), step("s-2", "done")])
    events = replayed_events(plan_replay(recording))
    assert [type(event) for event in events] == [
        RunStarted,
        StepStarted,
        StepCompleted,
        StepStarted,
        StepCompleted,
        FlowCompleted,
    ]
    run_started, final = events[0], events[-1]
    assert isinstance(run_started, RunStarted) and isinstance(final, FlowCompleted)
    assert run_started.execution_id == run_started.run_id == "exec-1"
    assert run_started.step_count == 2
    completed = [event for event in events if isinstance(event, StepCompleted)]
    assert [(event.step_id, event.step_index, event.output) for event in completed] == [
        ("s-1", 0, {"a": 1}),
        ("s-2", 1, "done"),
    ]
    assert final.result == "done"


def test_events_of_a_failed_recording_end_at_the_step_error() -> None:
    error = {"code": "BOOM", "message": "model failed"}
    recording = execution(
        "exec-9",
        status="failed",
        error_at_step="s-2",
        steps=[step("s-1", "ok"), step("s-2", error=error), step("s-3", "never")],
    )
    events = replayed_events(plan_replay(recording))
    assert [type(event) for event in events] == [
        RunStarted,
        StepStarted,
        StepCompleted,
        StepStarted,
        StepFailed,
    ]
    failed = events[-1]
    assert isinstance(failed, StepFailed)
    assert failed.step_id == "s-2"
    assert failed.error == error


def test_steps_yields_only_step_completed() -> None:
    recording = execution("exec-1", steps=[step("s-1", 1), step("s-2", 2)])
    events = replayed_steps(plan_replay(recording))
    assert all(isinstance(event, StepCompleted) for event in events)
    assert len(events) == 2


def test_truncated_snapshots_warn() -> None:
    recording = execution("exec-t", steps=[step("s-1", "cut", truncated=True)])
    with pytest.warns(UserWarning, match="truncated"):
        plan_replay(recording)
