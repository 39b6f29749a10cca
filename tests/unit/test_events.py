"""Typed events: which class a frame becomes, and what happens to frames that do not fit."""

from __future__ import annotations

import logging

import pytest

from noukai_sdk._core.errors import APIResponseValidationError
from noukai_sdk._core.events import (
    EVENT_TYPES,
    FlowCompleted,
    LoopCompleted,
    RunStarted,
    StepCompleted,
    StepFailed,
    StepInput,
    StepOutput,
    StepPaused,
    StepProgress,
    StepStarted,
    StreamEvent,
    ToolCallsRequired,
    parse_event,
    wire_event_type,
)


def test_the_event_name_selects_the_class() -> None:
    event = parse_event(
        "step_completed",
        b'{"stepId": "s-1", "name": "summarize", "output": {"summary": "..."}, "durationMs": 1240,'
        b' "tokens": {"prompt": 100, "completion": 50, "total": 150}, "costUsd": "0.000150"}',
    )
    assert isinstance(event, StepCompleted)
    assert event.type == event.event_type == "step_completed"
    assert event.tokens is not None and event.tokens.total == 150
    assert event.cost_usd == "0.000150"


def test_without_an_event_name_the_payload_event_type_selects_the_class() -> None:
    event = parse_event(
        "", b'{"eventType": "run_started", "runId": "r-1", "executionId": "exec-1", "stepCount": 2}'
    )
    assert isinstance(event, RunStarted) and event.execution_id == "exec-1"


def test_flow_started_is_the_legacy_name_of_run_started() -> None:
    event = parse_event("flow_started", b'{"runId": "r"}')
    assert isinstance(event, RunStarted)
    assert event.type == "run_started" and event.event_type == "flow_started"


def test_the_event_name_wins_over_a_conflicting_payload_event_type() -> None:
    event = parse_event("step_started", b'{"eventType": "step_input", "stepId": "s"}')
    assert isinstance(event, StepStarted) and event.event_type == "step_started"


def test_snake_case_payload_fields_are_accepted_and_extra_keys_ignored() -> None:
    event = parse_event("step_started", b'{"step_id": "s", "stepIndex": 2, "future": 1}')
    assert isinstance(event, StepStarted) and (event.step_id, event.step_index) == ("s", 2)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("something_new", b'{"stepId": "s"}'),
        ("", b'{"eventType": "something_new"}'),
        ("", b'{"stepId": "no type at all"}'),
        ("", b"[1, 2]"),
        ("", b"not json"),
    ],
)
def test_unknown_or_untyped_frames_are_skipped(name: str, data: bytes) -> None:
    assert parse_event(name, data) is None


def test_progress_and_loop_events_are_typed() -> None:
    progress = parse_event("step_progress", b'{"stepId": "s", "progress": 0.5, "message": "half"}')
    loop = parse_event("loop_completed", b'{"stepId": "s", "iterations": 3, "output": [1, 2, 3]}')
    assert isinstance(progress, StepProgress) and progress.progress == 0.5
    assert isinstance(loop, LoopCompleted) and loop.iterations == 3


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("step_completed", b'{"stepId": "s", "costUsd": 0.5}'),
        ("step_error", b'{"stepId": "s", "error": "text"}'),
        ("step_paused_for_tool_calls", b'{"executionId": "e", "stepId": "s"}'),
        ("run_started", b'{"runId": 5}'),
        ("step_paused", b'{"stepIndex": "next"}'),
        ("flow_completed", b"{cut"),
    ],
)
def test_invalid_control_events_raise(name: str, data: bytes) -> None:
    with pytest.raises(APIResponseValidationError, match=name) as caught:
        parse_event(name, data, request_id="req-9")
    assert caught.value.raw_body == data and caught.value.request_id == "req-9"


def test_relaxed_control_events_of_0_4_are_accepted() -> None:
    assert isinstance(parse_event("run_started", b'{"executionId": "e"}'), RunStarted)
    assert isinstance(parse_event("step_paused", b"{}"), StepPaused)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("step_started", b'{"name": "no id"}'),
        ("step_input", b'{"stepId": "s", "inputData": [1]}'),
        ("step_output", b"{cut"),
    ],
)
def test_invalid_progress_events_are_skipped_with_a_warning(
    name: str, data: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="noukai_sdk.streaming"):
        assert parse_event(name, data) is None
    (record,) = caplog.records
    assert record.levelno == logging.WARNING and name in record.getMessage()


def test_every_server_event_type_has_a_public_class() -> None:
    assert set(EVENT_TYPES) == {
        "run_started",
        "flow_started",
        "step_started",
        "step_input",
        "step_output",
        "step_progress",
        "step_completed",
        "step_error",
        "step_paused",
        "step_paused_for_tool_calls",
        "loop_completed",
        "flow_completed",
    }
    for name, cls in EVENT_TYPES.items():
        assert wire_event_type(cls) == name or (name == "flow_started" and cls is RunStarted)
        readme_name = "tool_calls_required" if cls is ToolCallsRequired else wire_event_type(cls)
        assert cls.type == readme_name


def describe(event: StreamEvent) -> str:
    match event.type:
        case "step_completed":
            return f"done {event.step_id}"
        case "step_error":
            return f"failed {event.step_id}"
        case "flow_completed":
            return "finished"
        case _:
            return event.type


def test_match_on_event_type_reads_like_the_readme() -> None:
    events = [
        parse_event("step_completed", b'{"stepId": "a"}'),
        parse_event("step_error", b'{"stepId": "b"}'),
        parse_event("flow_completed", b"{}"),
        parse_event("step_input", b'{"stepId": "c"}'),
    ]
    assert [describe(e) for e in events if e is not None] == [
        "done a",
        "failed b",
        "finished",
        "step_input",
    ]
    assert {StepFailed, StepInput, StepOutput, ToolCallsRequired, FlowCompleted} <= set(
        EVENT_TYPES.values()
    )
