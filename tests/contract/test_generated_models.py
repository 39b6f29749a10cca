"""The generated models speak CONTRACT.md's wire format: example bodies byte for byte, examples round-trip.

Request bodies are compared as compact JSON (``separators=(",", ":")``) with the CONTRACT examples
re-encoded the same way, so key order and every value must match exactly.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
import pytest

from noukai_sdk_generated import constants
from noukai_sdk_generated.api.flows import (
    execute_flow,
    execute_flow_version,
    step_flow,
    step_flow_version,
)
from noukai_sdk_generated.api.jobs import get_job, submit_job, submit_job_version
from noukai_sdk_generated.api.runs import get_run_trace, get_step_trace, stream_run_trace
from noukai_sdk_generated.api.sessions import get_session
from noukai_sdk_generated.models import (
    ChatMessage,
    ErrorBody,
    ErrorDetail,
    ExecuteRequest,
    ExecuteResult,
    FlowCompleted,
    JobAccepted,
    JobStatus,
    LoopCompleted,
    PausedResult,
    RunStarted,
    SessionResponse,
    StepAttempts,
    StepCompleted,
    StepFailed,
    StepPaused,
    StepProgress,
    StepRequest,
    StepTrace,
    ToolCallsRequired,
    Trace,
)
from noukai_sdk_generated.unions import (
    EVENT_DISCRIMINATOR,
    EVENT_MODELS,
    EXECUTE_RESPONSE_DISCRIMINATOR,
    EXECUTE_RESPONSE_MODELS,
)


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def contract_body(example: str) -> str:
    """A CONTRACT example (written with spaces) in the compact encoding, key order preserved."""
    return compact(json.loads(example))


# --- request bodies ----------------------------------------------------------------------------


def test_execute_minimal_body_with_message() -> None:
    body = ExecuteRequest(message="The cat sat on the mat.")
    assert compact(body.to_wire()) == contract_body(
        '{"message": "The cat sat on the mat.", "parameters": {}, "iterationsUsed": 0, '
        '"accumulatedOutputs": {}, "trace": false}'
    )


def test_execute_body_without_message() -> None:
    assert compact(ExecuteRequest().to_wire()) == contract_body(
        '{"parameters": {}, "iterationsUsed": 0, "accumulatedOutputs": {}, "trace": false}'
    )


def test_execute_empty_message_is_sent() -> None:
    assert ExecuteRequest(message="").to_wire()["message"] == ""


def test_job_submission_body() -> None:
    body = ExecuteRequest(message="m", parameters={"a": 1}, block_overrides={"b": {}}, trace=True)
    assert compact(body.to_wire()) == contract_body(
        '{"message": "m", "parameters": {"a": 1}, "blockOverrides": {"b": {}}, '
        '"iterationsUsed": 0, "accumulatedOutputs": {}, "trace": true}'
    )


def test_tool_resume_body() -> None:
    body = ExecuteRequest(
        parameters={"p": 1},
        block_overrides={"b": {}},
        attachments=[{"url": "u"}],
        tools=[{"t": 1}],
        tool_choice={"type": "function", "function": {"name": "x"}},
        execution_id="e",
        paused_at_step="s1",
        iterations_used=2,
        tool_call_messages=[
            {"role": "assistant", "tool_calls": [{"id": "t"}]},
            {"role": "tool", "tool_call_id": "t", "content": "c"},
        ],
        accumulated_outputs={"s0": 1},
        trace=True,
    )
    assert compact(body.to_wire()) == contract_body(
        '{"parameters": {"p": 1}, "blockOverrides": {"b": {}}, "attachments": [{"url": "u"}], '
        '"tools": [{"t": 1}], "toolChoice": {"type": "function", "function": {"name": "x"}}, '
        '"executionId": "e", "pausedAtStep": "s1", "iterationsUsed": 2, "toolCallMessages": '
        '[{"role": "assistant", "tool_calls": [{"id": "t"}]}, {"role": "tool", "tool_call_id": '
        '"t", "content": "c"}], "accumulatedOutputs": {"s0": 1}, "trace": true}'
    )


def test_structured_messages_body_from_dict_input() -> None:
    body = ExecuteRequest.model_validate(
        {
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "tool_calls": [{"id": "a"}], "content": None},
                {"role": "tool", "content": "r", "tool_call_id": "a", "extra": 1, "nul": None},
            ],
            "tools": [{"t": 1}],
        }
    )
    expected = (
        '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","toolCalls":[{"id":"a"}]},'
        '{"role":"tool","content":"r","toolCallId":"a","extra":1}],"parameters":{},"tools":[{"t":1}],'
        '"iterationsUsed":0,"accumulatedOutputs":{},"trace":false}'
    )
    assert compact(body.to_wire()) == expected


def test_chat_message_with_both_spellings_sends_both() -> None:
    message = ChatMessage.model_validate(
        {"role": "assistant", "toolCalls": [{"id": "camel"}], "tool_calls": [{"id": "snake"}]}
    )
    assert message.tool_calls == [{"id": "camel"}]
    assert message.to_wire() == {
        "role": "assistant",
        "toolCalls": [{"id": "camel"}],
        "tool_calls": [{"id": "snake"}],
    }


def test_chat_message_rejects_wrong_types() -> None:
    with pytest.raises(pydantic.ValidationError):
        ChatMessage.model_validate({"role": "tool", "tool_call_id": 5})
    with pytest.raises(pydantic.ValidationError):
        ChatMessage.model_validate({"role": "assistant", "tool_calls": "not a list"})


def test_nulls_inside_user_data_are_sent_unchanged() -> None:
    body = ExecuteRequest(parameters={"a": None, "nested": {"b": None}}, attachments=[{"x": None}])
    wire = body.to_wire()
    assert wire["parameters"] == {"a": None, "nested": {"b": None}}
    assert wire["attachments"] == [{"x": None}]


STEP_BODIES = [
    '{"stepIndex": 0, "accumulatedOutputs": {}, "message": "hi", "parameters": {"k": 1}, '
    '"attachments": [{"url": "u"}], "inputOverrides": {"i": 1}, "blockOverrides": {"b": {"x": 1}}, '
    '"runRemaining": false, "tools": [{"t": 1}], "toolChoice": "auto", "iterationsUsed": 0, '
    '"trace": true}',
    '{"executionId": "e", "stepIndex": 1, "accumulatedOutputs": {"s0": 1}, "parameters": {}, '
    '"inputOverrides": {"i": 1}, "blockOverrides": {"b": {"x": 1}}, "runRemaining": false, '
    '"tools": [{"t": 1}], "toolChoice": "auto", "iterationsUsed": 0, "trace": true}',
    '{"executionId": "e", "stepIndex": 1, "accumulatedOutputs": {"s0": 1}, "parameters": {}, '
    '"inputOverrides": {"i": 1}, "blockOverrides": {"b": {"x": 1}}, "runRemaining": false, '
    '"tools": [{"t": 1}], "toolChoice": "auto", "toolCallMessages": [{"role": "assistant"}, '
    '{"role": "tool", "tool_call_id": "tc", "content": "ok"}], "iterationsUsed": 1, "trace": true}',
]


def test_step_bodies_of_one_iteration() -> None:
    shared: dict[str, Any] = {
        "input_overrides": {"i": 1},
        "block_overrides": {"b": {"x": 1}},
        "tools": [{"t": 1}],
        "tool_choice": "auto",
        "trace": True,
    }
    first = StepRequest(message="hi", parameters={"k": 1}, attachments=[{"url": "u"}], **shared)
    continuation = StepRequest(
        execution_id="e", step_index=1, accumulated_outputs={"s0": 1}, **shared
    )
    tool_resume = StepRequest(
        execution_id="e",
        step_index=1,
        accumulated_outputs={"s0": 1},
        tool_call_messages=[
            {"role": "assistant"},
            {"role": "tool", "tool_call_id": "tc", "content": "ok"},
        ],
        iterations_used=1,
        **shared,
    )
    bodies = [compact(request.to_wire()) for request in (first, continuation, tool_resume)]
    assert bodies == [contract_body(example) for example in STEP_BODIES]


def test_wire_names_are_accepted_on_input_too() -> None:
    body = ExecuteRequest.model_validate({"blockOverrides": {"b": {}}, "iterationsUsed": 3})
    assert body.block_overrides == {"b": {}}
    assert body.to_wire()["iterationsUsed"] == 3


# --- responses -----------------------------------------------------------------------------------


def round_trip(model: type[pydantic.BaseModel], raw: str) -> Any:
    parsed = model.model_validate_json(raw.encode())
    assert parsed.model_dump(mode="json", by_alias=True, exclude_unset=True) == json.loads(raw)
    return parsed


EXECUTE_RESULT = (
    '{"status": "completed", "result": {"answer": 42}, "flowId": "f-xyz", "blockCount": 3, '
    '"executionId": "exec-1"}'
)
PAUSED_RESULT = """{
  "status": "tool_calls_required",
  "executionId": "exec-1",
  "pausedAtStep": "step-1",
  "iterationsUsed": 1,
  "toolCallMessages": [
    {"role": "user", "content": "search for X"},
    {"role": "assistant", "tool_calls": [{"id": "tc-1", "function": {"name": "search", "arguments": "{}"}}]}
  ],
  "toolCalls": [{"id": "tc-1", "function": {"name": "search", "arguments": "{}"}}],
  "accumulatedOutputs": {"step-0": {"context": "..."}},
  "flowId": "f",
  "blockCount": 2
}"""


def test_execute_result_round_trips() -> None:
    result = round_trip(ExecuteResult, EXECUTE_RESULT)
    assert result.status == "completed"
    assert result.result == {"answer": 42}
    assert (result.flow_id, result.block_count, result.execution_id) == ("f-xyz", 3, "exec-1")


def test_paused_result_round_trips() -> None:
    paused = round_trip(PausedResult, PAUSED_RESULT)
    assert paused.tool_calls == [{"id": "tc-1", "function": {"name": "search", "arguments": "{}"}}]
    assert paused.accumulated_outputs == {"step-0": {"context": "..."}}
    assert paused.tool_call_messages[1]["tool_calls"][0]["id"] == "tc-1"


def test_execute_response_dispatches_on_status() -> None:
    assert EXECUTE_RESPONSE_DISCRIMINATOR == "status"
    for raw, expected in ((EXECUTE_RESULT, ExecuteResult), (PAUSED_RESULT, PausedResult)):
        status = json.loads(raw)[EXECUTE_RESPONSE_DISCRIMINATOR]
        assert type(EXECUTE_RESPONSE_MODELS[status].model_validate_json(raw)) is expected
    failed = EXECUTE_RESPONSE_MODELS["failed"].model_validate_json(
        '{"status": "failed", "flowId": "f", "blockCount": 1}'
    )
    assert isinstance(failed, ExecuteResult)
    assert failed.result is None


def test_execute_result_rejects_other_statuses_and_ignores_unknown_fields() -> None:
    with pytest.raises(pydantic.ValidationError):
        ExecuteResult.model_validate_json('{"status": "running", "flowId": "f", "blockCount": 1}')
    result = ExecuteResult.model_validate_json(
        '{"status": "completed", "flowId": "f", "blockCount": 1, "newField": true}'
    )
    assert "newField" not in result.model_dump(by_alias=True)


def test_paused_result_status_defaults_to_its_discriminator() -> None:
    paused = PausedResult.model_validate(
        {
            "executionId": "e",
            "pausedAtStep": "s",
            "iterationsUsed": 0,
            "toolCallMessages": [],
            "toolCalls": [],
            "flowId": "f",
            "blockCount": 1,
        }
    )
    assert paused.status == "tool_calls_required"
    assert paused.accumulated_outputs == {}


def test_jobs() -> None:
    accepted = round_trip(
        JobAccepted, '{"executionId": "e", "status": "started", "flowId": "f", "blockCount": 2}'
    )
    assert accepted.status == "started"
    done = round_trip(JobStatus, '{"executionId": "e", "status": "completed", "result": [1, 2]}')
    assert done.result == [1, 2]
    for status in ("cancelled", "queued"):  # unknown statuses are accepted
        assert (
            JobStatus.model_validate_json(f'{{"executionId": "e", "status": "{status}"}}').status
            == status
        )
    failed = JobStatus.model_validate_json(
        '{"executionId": "e", "status": "failed", "error": "boom"}'
    )
    assert failed.error == "boom"


SESSION = """{
  "sessionId": "11111111-1111-4111-8111-111111111111",
  "executions": [
    {"executionId": "exec-rec-1", "flowId": "flow-1", "slug": "grade-3", "triggerType": "execute",
     "status": "completed", "startedAt": "2026-06-05T00:00:00Z", "completedAt": "2026-06-05T00:00:01Z",
     "traceCaptureMode": "full", "snapshotsAvailable": true, "errorAtStep": null,
     "steps": [{"stepId": "s-1", "attempt": 1, "inputSnapshot": {"input": "x"}, "outputSnapshot": {"ok": true},
                "errorSnapshot": null, "truncated": false, "startedAt": "2026-06-05T00:00:00Z", "completedAt": "2026-06-05T00:00:01Z"}]}
  ]
}"""


def test_session_response_round_trips() -> None:
    session = round_trip(SessionResponse, SESSION)
    (execution,) = session.executions
    assert execution.snapshots_available is True
    assert execution.error_at_step is None
    (step,) = execution.steps
    assert step.input_snapshot == {"input": "x"}
    assert step.output_snapshot == {"ok": True}
    assert step.status == "completed"  # default
    assert step.loop_index is None


def test_session_defaults_and_tolerated_values() -> None:
    session = SessionResponse.model_validate_json(
        '{"sessionId": "s", "executions": [{"executionId": "e", "status": "archived", '
        '"snapshotsAvailable": false, "triggerType": "webhook", "blockId": "legacy"}]}'
    )
    (execution,) = session.executions
    assert (execution.status, execution.trigger_type, execution.steps) == (
        "archived",
        "webhook",
        [],
    )
    assert SessionResponse.model_validate_json('{"sessionId": "s"}').executions == []
    with pytest.raises(pydantic.ValidationError):
        SessionResponse.model_validate_json(
            '{"sessionId": "s", "executions": [{"executionId": "e", "status": "completed"}]}'
        )


def test_traces() -> None:
    step = {
        "stepId": "s-1",
        "attempt": 2,
        "status": "completed",
        "modelUsed": "m",
        "tokens": {"prompt": 1, "completion": 2, "total": 3},
        "costUsd": "0.000150",
        "inputContext": {"a": [1, None]},
        "truncated": True,
    }
    trace = round_trip(
        Trace,
        json.dumps(
            {
                "flowRun": {
                    "id": "r",
                    "flowId": "f",
                    "status": "completed",
                    "triggerType": "ad_hoc",
                },
                "steps": [step],
            }
        ),
    )
    assert trace.flow_run.trigger_type == "ad_hoc"
    assert trace.steps[0].input_context == {"a": [1, None]}
    assert trace.steps[0].model_used == "m"
    attempts = round_trip(StepAttempts, json.dumps({"stepId": "s-1", "attempts": [step]}))
    assert attempts.attempts[0].tokens is not None and attempts.attempts[0].tokens.total == 3
    with pytest.raises(pydantic.ValidationError):
        StepTrace.model_validate({"stepId": "s", "attempt": 1, "status": "exploded"})
    assert (
        StepTrace.model_validate({"stepId": "s", "attempt": 1, "status": "running"}).truncated
        is False
    )


def test_error_bodies() -> None:
    coded = ErrorBody.model_validate_json(
        '{"detail": {"code": "FLOW_NOT_FOUND", "message": "nope"}}'
    )
    assert coded.detail == ErrorDetail(code="FLOW_NOT_FOUND", message="nope")
    assert ErrorBody.model_validate_json('{"detail": "invalid key"}').detail == "invalid key"
    no_message = ErrorBody.model_validate_json('{"detail": {"code": "GONE"}}').detail
    assert isinstance(no_message, ErrorDetail) and no_message.message == ""
    validation = ErrorBody.model_validate_json('{"detail": [{"loc": ["body"], "msg": "x"}]}')
    assert validation.detail == [{"loc": ["body"], "msg": "x"}]


# --- SSE events ------------------------------------------------------------------------------------


def parse_event(event_type: str, data: str) -> Any:
    return EVENT_MODELS[event_type].model_validate_json(data)


def test_step_completed_frame_payload() -> None:
    data = (
        '{"stepId": "s-1", "name": "summarize", "output": {"summary": "..."}, "durationMs": 1240, '
        '"tokens": {"prompt": 100, "completion": 50, "total": 150}, "costUsd": "0.000150"}'
    )
    event = parse_event("step_completed", data)
    assert isinstance(event, StepCompleted)
    assert event.event_type == "step_completed"
    assert (event.step_id, event.name, event.duration_ms, event.cost_usd) == (
        "s-1",
        "summarize",
        1240,
        "0.000150",
    )
    assert event.output == {"summary": "..."}
    assert event.tokens is not None and (event.tokens.prompt, event.tokens.total) == (100, 150)
    assert event.model_dump(mode="json", by_alias=True, exclude_unset=True) == json.loads(data)


def test_run_started_payload_with_event_type_field() -> None:
    data = '{"eventType": "run_started", "runId": "r-1", "executionId": "exec-1", "flowId": "f", "stepCount": 2}'
    event = parse_event(json.loads(data)[EVENT_DISCRIMINATOR], data)
    assert isinstance(event, RunStarted)
    assert event.model_dump(mode="json", by_alias=True, exclude_unset=True) == json.loads(data)


def test_run_started_needs_no_run_id_and_accepts_the_legacy_name() -> None:
    event = parse_event("run_started", '{"executionId": "e"}')
    assert isinstance(event, RunStarted) and event.run_id is None
    legacy = parse_event("flow_started", '{"eventType": "flow_started", "runId": "r"}')
    assert isinstance(legacy, RunStarted) and legacy.event_type == "flow_started"


def test_tool_pause_payload() -> None:
    data = (
        '{"runId": "r-1", "executionId": "e-1", "stepId": "s-1", "stepIndex": 2, "iterationsUsed": 1, '
        '"toolCallMessages": [], "toolCalls": [], "accumulatedOutputs": {}}'
    )
    event = parse_event("step_paused_for_tool_calls", data)
    assert isinstance(event, ToolCallsRequired)
    assert (event.step_index, event.iterations_used) == (2, 1)
    assert event.model_dump(mode="json", by_alias=True, exclude_unset=True) == json.loads(data)
    with pytest.raises(pydantic.ValidationError):  # runId is still required on a tool pause
        parse_event("step_paused_for_tool_calls", data.replace('"runId": "r-1", ', ""))


def test_control_event_validation_is_strict_where_the_contract_says_so() -> None:
    with pytest.raises(pydantic.ValidationError):  # costUsd is decimal text, not a number
        parse_event("step_completed", '{"stepId": "s", "costUsd": 0.1}')
    with pytest.raises(pydantic.ValidationError):  # the error of step_error is an object
        parse_event("step_error", '{"stepId": "s", "error": "boom"}')
    with pytest.raises(pydantic.ValidationError):
        parse_event("step_input", '{"stepId": "s", "inputData": [1]}')


def test_free_form_event_content_is_kept() -> None:
    failed = parse_event(
        "step_error", '{"stepId": "s", "error": {"code": "X", "message": "m", "extra": [1]}}'
    )
    assert isinstance(failed, StepFailed) and failed.error == {
        "code": "X",
        "message": "m",
        "extra": [1],
    }
    done = parse_event(
        "flow_completed", '{"executionId": "e", "result": null, "summary": {"failed_at_step": "s"}}'
    )
    assert isinstance(done, FlowCompleted) and done.summary == {"failed_at_step": "s"}
    paused = parse_event("step_paused", '{"stepIndex": 1}')
    assert isinstance(paused, StepPaused) and paused.step_id is None and paused.step_index == 1


def test_progress_and_loop_events_are_typed() -> None:
    progress = parse_event("step_progress", '{"stepId": "s", "progress": 0.5, "message": "half"}')
    assert isinstance(progress, StepProgress) and progress.progress == 0.5
    loop = parse_event("loop_completed", '{"stepId": "s", "iterations": 3, "output": [1, 2, 3]}')
    assert isinstance(loop, LoopCompleted) and loop.iterations == 3 and loop.output == [1, 2, 3]


def test_event_models_cover_every_event_type() -> None:
    assert EVENT_DISCRIMINATOR == "eventType"
    assert {name: model.__name__ for name, model in EVENT_MODELS.items()} == {
        "run_started": "RunStarted",
        "flow_started": "RunStarted",
        "step_started": "StepStarted",
        "step_input": "StepInput",
        "step_output": "StepOutput",
        "step_progress": "StepProgress",
        "step_completed": "StepCompleted",
        "step_error": "StepFailed",
        "step_paused": "StepPaused",
        "step_paused_for_tool_calls": "ToolCallsRequired",
        "loop_completed": "LoopCompleted",
        "flow_completed": "FlowCompleted",
    }


def test_every_event_model_defaults_its_event_type() -> None:
    for value, model in EVENT_MODELS.items():
        payload: dict[str, Any] = {
            "stepId": "s",
            "runId": "r",
            "executionId": "e",
            "stepIndex": 0,
            "iterationsUsed": 0,
            "toolCallMessages": [],
            "toolCalls": [],
        }
        event = model.model_validate(payload)
        expected = "run_started" if value == "flow_started" else value
        assert event.event_type == expected


# --- request builders ------------------------------------------------------------------------------


def test_execute_request_descriptions() -> None:
    body = ExecuteRequest(message="hi")
    assert execute_flow.build_request(
        org="acme", project="spelling", slug="grade-3", body=body
    ) == {
        "method": "POST",
        "url": "/seq/acme/spelling/grade-3/execute",
        "json": body.to_wire(),
    }
    versioned = execute_flow_version.build_request(
        org="acme", project="spelling", slug="grade-3", version=3, body=body, x_session_id="sid"
    )
    assert versioned["url"] == "/seq/acme/spelling/grade-3/v3/execute"
    assert versioned.get("headers") == {"X-Session-Id": "sid"}
    empty_session = execute_flow.build_request(
        org="o", project="p", slug="s", body=body, x_session_id=""
    )
    assert empty_session.get("headers") == {"X-Session-Id": ""}


def test_path_parameters_are_percent_encoded() -> None:
    request = get_step_trace.build_request(
        org="a b", project="p/q", slug="s?x", execution_id="e#1", step_id="%"
    )
    assert request["url"] == "/seq/a%20b/p%2Fq/s%3Fx/runs/e%231/steps/%25/trace"
    assert "params" not in request and "json" not in request and "headers" not in request


def test_step_trace_query() -> None:
    everything = get_step_trace.build_request(
        org="o", project="p", slug="s", execution_id="e", step_id="st", attempt="all", loop_index=2
    )
    assert everything.get("params") == {"attempt": "all", "loop_index": "2"}
    nth = get_step_trace.build_request(
        org="o", project="p", slug="s", execution_id="e", step_id="st", attempt=3
    )
    assert nth.get("params") == {"attempt": "3"}


def test_every_operation_builds_its_path() -> None:
    flow = {"org": "o", "project": "p", "slug": "s"}
    step_body = StepRequest()
    job_body = ExecuteRequest()
    built = [
        step_flow.build_request(**flow, body=step_body),
        step_flow_version.build_request(**flow, version=0, body=step_body),
        submit_job.build_request(**flow, body=job_body),
        submit_job_version.build_request(**flow, version=2, body=job_body),
        get_job.build_request(**flow, execution_id="e"),
        get_run_trace.build_request(**flow, execution_id="e"),
        stream_run_trace.build_request(**flow, execution_id="e"),
        get_session.build_request(session_id="11111111-1111-4111-8111-111111111111"),
    ]
    assert [(request["method"], request["url"]) for request in built] == [
        ("POST", "/seq/o/p/s/step"),
        ("POST", "/seq/o/p/s/v0/step"),
        ("POST", "/seq/o/p/s/jobs"),
        ("POST", "/seq/o/p/s/v2/jobs"),
        ("GET", "/seq/o/p/s/jobs/e"),
        ("GET", "/seq/o/p/s/runs/e/trace"),
        ("GET", "/seq/o/p/s/runs/e/trace/stream"),
        ("GET", "/seq/sessions/11111111-1111-4111-8111-111111111111"),
    ]
    assert built[0].get("json") == step_body.to_wire()
    assert built[2].get("json") == job_body.to_wire()


def test_constants_come_from_the_spec() -> None:
    assert constants.SERVERS == {
        "production": "https://api.noukai.dev/api/v1",
        "dev": "http://localhost:8080/api/v1",
    }
    assert (constants.API_VERSION_HEADER, constants.API_VERSION) == (
        "X-Noukai-API-Version",
        "2026-05-31",
    )
    assert constants.SESSION_ID_HEADER == "X-Session-Id"
    assert constants.REQUEST_ID_HEADER == "X-Request-ID"
    assert constants.RETRY_AFTER_HEADER == "Retry-After"
    assert constants.PRODUCTION_BASE_URL == "https://api.noukai.dev/api/v1"
    assert constants.DEV_BASE_URL_TEMPLATE == "http://localhost:{port}/api/v1"
    assert (constants.DEV_HOST, constants.DEV_DEFAULT_PORT) == ("localhost", 8080)
    assert constants.DEV_BASE_URL_TEMPLATE.format(port=8080) == constants.SERVERS["dev"]
    assert constants.API_KEY_PREFIX == "nk_"


def test_the_handwritten_constants_are_the_generated_ones() -> None:
    from noukai_sdk._core import constants as handwritten

    for name in (
        "API_KEY_PREFIX",
        "API_VERSION",
        "API_VERSION_HEADER",
        "DEV_BASE_URL_TEMPLATE",
        "DEV_DEFAULT_PORT",
        "DEV_HOST",
        "PRODUCTION_BASE_URL",
        "REQUEST_ID_HEADER",
        "RETRY_AFTER_HEADER",
        "SESSION_ID_HEADER",
    ):
        assert getattr(handwritten, name) is getattr(constants, name), name
