"""openapi.yaml declares every operation, schema and event of CONTRACT.md, with exact wire names.

The expectations are written out here from the wire contract on purpose: a later
edit of the spec cannot silently lose an operation, a field, or change what is required.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
import yaml
from openapi_spec_validator import validate

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
FLOW = "/seq/{org}/{project}/{slug}"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def _schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"][name]
    return schema


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = spec["components"][section][name]
    return node


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            found[operation["operationId"]] = (method.upper(), path, operation)
    return found


def _parameters(spec: dict[str, Any], operation: dict[str, Any]) -> dict[tuple[str, str], bool]:
    resolved = [_resolve(spec, parameter) for parameter in operation.get("parameters", [])]
    return {(p["in"], p["name"]): bool(p.get("required", False)) for p in resolved}


def test_the_spec_is_a_valid_openapi_3_1_document(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_servers_are_production_and_dev(spec: dict[str, Any]) -> None:
    servers = [
        (server["x-noukai-environment"], server["url"], server.get("variables"))
        for server in spec["servers"]
    ]
    assert servers == [
        ("production", "https://api.noukai.dev/api/v1", None),
        ("dev", "http://localhost:{port}/api/v1", {"port": ANY}),
    ]
    assert spec["servers"][1]["variables"]["port"]["default"] == "8080"


def test_every_operation_uses_bearer_auth(spec: dict[str, Any]) -> None:
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key starting with `nk_`.",
        "x-noukai-key-prefix": "nk_",
    }
    assert spec["security"] == [{"bearerAuth": []}]
    for _, _, operation in _operations(spec).values():
        assert "security" not in operation  # nothing opts out of the global requirement


EXPECTED_OPERATIONS = {
    "execute_flow": ("POST", f"{FLOW}/execute", "flows"),
    "execute_flow_version": ("POST", f"{FLOW}/v{{version}}/execute", "flows"),
    "step_flow": ("POST", f"{FLOW}/step", "flows"),
    "step_flow_version": ("POST", f"{FLOW}/v{{version}}/step", "flows"),
    "submit_job": ("POST", f"{FLOW}/jobs", "jobs"),
    "submit_job_version": ("POST", f"{FLOW}/v{{version}}/jobs", "jobs"),
    "get_job": ("GET", f"{FLOW}/jobs/{{executionId}}", "jobs"),
    "get_run_trace": ("GET", f"{FLOW}/runs/{{executionId}}/trace", "runs"),
    "get_step_trace": ("GET", f"{FLOW}/runs/{{executionId}}/steps/{{stepId}}/trace", "runs"),
    "stream_run_trace": ("GET", f"{FLOW}/runs/{{executionId}}/trace/stream", "runs"),
    "get_session": ("GET", "/seq/sessions/{sessionId}", "sessions"),
}


def test_every_contract_operation_is_declared_with_a_stable_id(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    assert set(operations) == set(EXPECTED_OPERATIONS)
    for operation_id, (method, path, tag) in EXPECTED_OPERATIONS.items():
        found_method, found_path, operation = operations[operation_id]
        assert (found_method, found_path) == (method, path), operation_id
        assert operation["tags"] == [tag], operation_id


@pytest.mark.parametrize("operation_id", sorted(EXPECTED_OPERATIONS))
def test_every_operation_declares_the_api_version_header(
    spec: dict[str, Any], operation_id: str
) -> None:
    _, _, operation = _operations(spec)[operation_id]
    parameters = [_resolve(spec, p) for p in operation["parameters"]]
    (pin,) = [p for p in parameters if p["name"] == "X-Noukai-API-Version"]
    assert pin["in"] == "header"
    assert pin["required"] is True
    assert pin["schema"]["enum"] == ["2026-05-31"]


def test_session_header_only_on_execute_step_and_job_submission(spec: dict[str, Any]) -> None:
    with_session = {
        operation_id
        for operation_id, (_, _, operation) in _operations(spec).items()
        if ("header", "X-Session-Id") in _parameters(spec, operation)
    }
    assert with_session == {
        "execute_flow",
        "execute_flow_version",
        "step_flow",
        "step_flow_version",
        "submit_job",
        "submit_job_version",
    }
    for operation_id in with_session:
        _, _, operation = _operations(spec)[operation_id]
        assert _parameters(spec, operation)[("header", "X-Session-Id")] is False


def test_path_parameters_and_step_trace_query(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    for operation_id, (_, path, _) in EXPECTED_OPERATIONS.items():
        declared = {
            name
            for (where, name) in _parameters(spec, operations[operation_id][2])
            if where == "path"
        }
        templated = {part.split("}")[0] for part in path.split("{")[1:]}
        assert declared == templated, operation_id
    step_trace = _parameters(spec, operations["get_step_trace"][2])
    assert step_trace[("query", "attempt")] is False
    assert step_trace[("query", "loop_index")] is False
    version = _resolve(spec, {"$ref": "#/components/parameters/Version"})
    assert version["schema"] == {"type": "integer", "minimum": 0}


def test_response_headers_request_id_everywhere(spec: dict[str, Any]) -> None:
    for operation_id, (_, _, operation) in _operations(spec).items():
        for status, response in operation["responses"].items():
            headers = _resolve(spec, response).get("headers", {})
            assert "X-Request-ID" in headers, (operation_id, status)
    assert "WWW-Authenticate" in spec["components"]["responses"]["Unauthorized"]["headers"]
    assert "Retry-After" in spec["components"]["responses"]["TooManyRequests"]["headers"]


def _body_schema(spec: dict[str, Any], response: dict[str, Any], media: str) -> dict[str, Any]:
    schema: dict[str, Any] = _resolve(spec, response)["content"][media]["schema"]
    return schema


SUCCESS = {
    "execute_flow": ("200", "application/json", "ExecuteResponse"),
    "execute_flow_version": ("200", "application/json", "ExecuteResponse"),
    "step_flow": ("200", "text/event-stream", "Event"),
    "step_flow_version": ("200", "text/event-stream", "Event"),
    "submit_job": ("202", "application/json", "JobAccepted"),
    "submit_job_version": ("202", "application/json", "JobAccepted"),
    "get_job": ("200", "application/json", "JobStatus"),
    "get_run_trace": ("200", "application/json", "Trace"),
    "stream_run_trace": ("200", "text/event-stream", "Event"),
    "get_session": ("200", "application/json", "SessionResponse"),
}


def test_success_responses_name_their_schema(spec: dict[str, Any]) -> None:
    operations = _operations(spec)
    for operation_id, (status, media, schema_name) in SUCCESS.items():
        responses = operations[operation_id][2]["responses"]
        assert [code for code in responses if code.startswith("2")] == [status], operation_id
        schema = _body_schema(spec, responses[status], media)
        assert schema == {"$ref": f"#/components/schemas/{schema_name}"}, operation_id
    step_trace = _body_schema(
        spec, operations["get_step_trace"][2]["responses"]["200"], "application/json"
    )
    assert step_trace["oneOf"] == [
        {"$ref": "#/components/schemas/StepTrace"},
        {"$ref": "#/components/schemas/StepAttempts"},
    ]


FLOW_ERRORS = {"400", "401", "402", "403", "404", "409", "413", "422", "429", "500", "502", "503"}
GET_ERRORS = {"401", "403", "404", "408", "429", "500", "502", "503", "504"}
EXPECTED_ERRORS = {
    "execute_flow": FLOW_ERRORS,
    "execute_flow_version": FLOW_ERRORS,
    "step_flow": FLOW_ERRORS,
    "step_flow_version": FLOW_ERRORS,
    "submit_job": FLOW_ERRORS,
    "submit_job_version": FLOW_ERRORS,
    "get_job": GET_ERRORS,
    "get_run_trace": GET_ERRORS,
    "get_step_trace": GET_ERRORS | {"400"},
    "stream_run_trace": {"401", "403", "404", "429", "500", "502", "503"},
    "get_session": GET_ERRORS | {"400", "402", "410"},
}


def test_every_error_response_is_the_error_body(spec: dict[str, Any]) -> None:
    for operation_id, (_, _, operation) in _operations(spec).items():
        errors = {code for code in operation["responses"] if code[0] in "45"}
        assert errors == EXPECTED_ERRORS[operation_id], operation_id
        for code in errors:
            schema = _body_schema(spec, operation["responses"][code], "application/json")
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (operation_id, code)


def test_error_body_detail_is_an_object_or_a_string(spec: dict[str, Any]) -> None:
    body = _schema(spec, "ErrorBody")
    assert body["required"] == ["detail"]
    options = body["properties"]["detail"]["oneOf"]
    assert {"$ref": "#/components/schemas/ErrorDetail"} in options
    assert {"type": "string"} in options
    detail = _schema(spec, "ErrorDetail")
    assert list(detail["properties"]) == ["code", "message"]


# Every schema: its wire property names in order, and exactly which are required.
EXPECTED_SCHEMAS: dict[str, tuple[list[str], list[str]]] = {
    "ChatMessage": (["role", "content", "toolCalls", "toolCallId", "name"], ["role"]),
    "ExecuteRequest": (
        [
            "message",
            "messages",
            "parameters",
            "blockOverrides",
            "attachments",
            "tools",
            "toolChoice",
            "executionId",
            "pausedAtStep",
            "iterationsUsed",
            "toolCallMessages",
            "accumulatedOutputs",
            "trace",
        ],
        [],
    ),
    "StepRequest": (
        [
            "executionId",
            "stepIndex",
            "accumulatedOutputs",
            "message",
            "parameters",
            "attachments",
            "inputOverrides",
            "blockOverrides",
            "runRemaining",
            "tools",
            "toolChoice",
            "toolCallMessages",
            "iterationsUsed",
            "trace",
        ],
        [],
    ),
    "ExecuteResult": (
        ["status", "result", "flowId", "blockCount", "executionId"],
        ["status", "flowId", "blockCount"],
    ),
    "PausedResult": (
        [
            "status",
            "executionId",
            "pausedAtStep",
            "iterationsUsed",
            "toolCallMessages",
            "toolCalls",
            "accumulatedOutputs",
            "flowId",
            "blockCount",
        ],
        [
            "executionId",
            "pausedAtStep",
            "iterationsUsed",
            "toolCallMessages",
            "toolCalls",
            "flowId",
            "blockCount",
        ],
    ),
    "JobAccepted": (
        ["executionId", "status", "flowId", "blockCount"],
        ["executionId", "status", "flowId", "blockCount"],
    ),
    "JobStatus": (["executionId", "status", "result", "error"], ["executionId", "status"]),
    "Trace": (["flowRun", "steps"], ["flowRun", "steps"]),
    "RunSummary": (
        [
            "id",
            "flowId",
            "status",
            "triggerType",
            "startedAt",
            "completedAt",
            "durationMs",
            "stepCount",
        ],
        ["id", "flowId", "status"],
    ),
    "StepTrace": (
        [
            "stepId",
            "attempt",
            "loopIndex",
            "status",
            "startedAt",
            "completedAt",
            "durationMs",
            "modelUsed",
            "tokens",
            "costUsd",
            "inputContext",
            "outputContext",
            "errorContext",
            "inputSizeBytes",
            "outputSizeBytes",
            "truncated",
        ],
        ["stepId", "attempt", "status"],
    ),
    "StepAttempts": (["stepId", "attempts"], ["stepId", "attempts"]),
    "TokenBreakdown": (["prompt", "completion", "total"], []),
    "SessionResponse": (["sessionId", "executions"], ["sessionId"]),
    "SessionExecution": (
        [
            "executionId",
            "flowId",
            "slug",
            "triggerType",
            "status",
            "startedAt",
            "completedAt",
            "traceCaptureMode",
            "snapshotsAvailable",
            "steps",
            "errorAtStep",
        ],
        ["executionId", "status", "snapshotsAvailable"],
    ),
    "SessionStep": (
        [
            "stepId",
            "attempt",
            "loopIndex",
            "status",
            "startedAt",
            "completedAt",
            "durationMs",
            "inputSnapshot",
            "outputSnapshot",
            "errorSnapshot",
            "truncated",
            "blockId",
        ],
        ["stepId"],
    ),
    "ErrorBody": (["detail"], ["detail"]),
    "ErrorDetail": (["code", "message"], ["code"]),
    # SSE events: runId optional on run_started, stepId on step_paused.
    "RunStarted": (["eventType", "runId", "executionId", "flowId", "stepCount"], []),
    "StepStarted": (["eventType", "stepId", "name", "stepIndex"], ["stepId"]),
    "StepInput": (["eventType", "stepId", "inputData"], ["stepId"]),
    "StepOutput": (["eventType", "stepId", "outputData"], ["stepId"]),
    "StepProgress": (
        ["eventType", "stepId", "stepIndex", "progress", "message", "data"],
        ["stepId"],
    ),
    "StepCompleted": (
        ["eventType", "stepId", "name", "stepIndex", "output", "durationMs", "tokens", "costUsd"],
        ["stepId"],
    ),
    "StepFailed": (["eventType", "stepId", "name", "error"], ["stepId"]),
    "StepPaused": (["eventType", "stepId", "stepIndex"], []),
    "ToolCallsRequired": (
        [
            "eventType",
            "runId",
            "executionId",
            "stepId",
            "stepIndex",
            "iterationsUsed",
            "toolCallMessages",
            "toolCalls",
            "accumulatedOutputs",
        ],
        [
            "runId",
            "executionId",
            "stepId",
            "stepIndex",
            "iterationsUsed",
            "toolCallMessages",
            "toolCalls",
        ],
    ),
    "LoopCompleted": (["eventType", "stepId", "stepIndex", "iterations", "output"], ["stepId"]),
    "FlowCompleted": (["eventType", "runId", "executionId", "result", "summary"], []),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_SCHEMAS))
def test_schema_wire_names_and_required(spec: dict[str, Any], name: str) -> None:
    properties, required = EXPECTED_SCHEMAS[name]
    schema = _schema(spec, name)
    assert list(schema["properties"]) == properties
    assert sorted(schema.get("required", [])) == sorted(required)


def test_request_defaults_are_the_values_always_sent(spec: dict[str, Any]) -> None:
    execute = _schema(spec, "ExecuteRequest")["properties"]
    assert {
        k: execute[k]["default"]
        for k in ("parameters", "iterationsUsed", "accumulatedOutputs", "trace")
    } == {
        "parameters": {},
        "iterationsUsed": 0,
        "accumulatedOutputs": {},
        "trace": False,
    }
    step = _schema(spec, "StepRequest")["properties"]
    always = (
        "stepIndex",
        "accumulatedOutputs",
        "parameters",
        "inputOverrides",
        "runRemaining",
        "iterationsUsed",
        "trace",
    )
    assert {k: step[k]["default"] for k in always} == {
        "stepIndex": 0,
        "accumulatedOutputs": {},
        "parameters": {},
        "inputOverrides": {},
        "runRemaining": False,
        "iterationsUsed": 0,
        "trace": False,
    }


def test_chat_message_keeps_extra_keys(spec: dict[str, Any]) -> None:
    assert _schema(spec, "ChatMessage")["additionalProperties"] is True


def test_cost_is_decimal_text_and_statuses_are_as_documented(spec: dict[str, Any]) -> None:
    assert _schema(spec, "StepCompleted")["properties"]["costUsd"]["type"] == "string"
    assert _schema(spec, "StepTrace")["properties"]["costUsd"]["type"] == "string"
    assert _schema(spec, "ExecuteResult")["properties"]["status"]["enum"] == ["completed", "failed"]
    assert _schema(spec, "PausedResult")["properties"]["status"]["enum"] == ["tool_calls_required"]
    assert _schema(spec, "StepTrace")["properties"]["status"]["enum"] == [
        "running",
        "completed",
        "failed",
        "skipped",
    ]
    job_status = _schema(spec, "JobStatus")["properties"]["status"]
    assert job_status["type"] == "string"
    assert "enum" not in job_status  # unknown statuses are accepted
    assert "cancelled" in job_status["examples"]


EXPECTED_EVENTS = {
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


def test_every_sse_event_is_in_the_discriminated_event_union(spec: dict[str, Any]) -> None:
    union = _schema(spec, "Event")
    assert union["discriminator"]["propertyName"] == "eventType"
    mapping = {
        value: ref.removeprefix("#/components/schemas/")
        for value, ref in union["discriminator"]["mapping"].items()
    }
    assert mapping == EXPECTED_EVENTS
    members = {option["$ref"].removeprefix("#/components/schemas/") for option in union["oneOf"]}
    assert members == set(EXPECTED_EVENTS.values())


@pytest.mark.parametrize("value", sorted(EXPECTED_EVENTS))
def test_each_event_schema_accepts_its_discriminator_value(
    spec: dict[str, Any], value: str
) -> None:
    event_type = _schema(spec, EXPECTED_EVENTS[value])["properties"]["eventType"]
    assert value in event_type["enum"]
    assert event_type["default"] in event_type["enum"]
    assert "eventType" not in _schema(spec, EXPECTED_EVENTS[value]).get("required", [])


def test_execute_response_is_discriminated_by_status(spec: dict[str, Any]) -> None:
    union = _schema(spec, "ExecuteResponse")
    assert union["discriminator"] == {
        "propertyName": "status",
        "mapping": {
            "completed": "#/components/schemas/ExecuteResult",
            "failed": "#/components/schemas/ExecuteResult",
            "tool_calls_required": "#/components/schemas/PausedResult",
        },
    }
