"""The dev server against openapi.yaml: every answer's status, headers, JSON body and SSE events.

A schemathesis-like check built on the spec itself: for a catalogue of requests covering every
operation and the error statuses the dev server produces, the response status must be declared for
that operation, the declared headers must be present, and the body must validate (jsonschema,
draft 2020-12) against the declared schema. SSE bodies are split into frames and each event is
validated against the schema its ``event`` name maps to in the ``Event`` discriminator.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from noukai_sdk.devserver.process import DevServerProcess

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
OPERATIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    operation["operationId"]: (method.upper(), path, operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
}
KEYS = """\
keys:
  nk_dev_local: {}
  nk_contract_broke: {credits_usd: "0"}
  nk_contract_elsewhere: {projects: ["other/project"]}
  nk_contract_throttled: {requests_per_minute: 1}
"""
WEATHER = [{"type": "function", "function": {"name": "get_weather"}}]
FRESH = {"parameters": {}, "iterationsUsed": 0, "accumulatedOutputs": {}, "trace": False}
FIRST_STEP = {
    "stepIndex": 0,
    "accumulatedOutputs": {},
    "parameters": {},
    "inputOverrides": {},
    "runRemaining": False,
    "iterationsUsed": 0,
    "trace": False,
}


def validator_for(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator for ``schema`` whose ``#/components/...`` references resolve in the spec."""
    document = {**schema, "components": SPEC["components"]}
    return jsonschema.Draft202012Validator(document)


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = SPEC["components"][section][name]
    return node


@dataclass
class Server:
    base_url: str

    def call(
        self,
        operation_id: str,
        *,
        key: str = "nk_dev_local",
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        **path_params: str,
    ) -> httpx.Response:
        method, template, _ = OPERATIONS[operation_id]
        url = self.base_url + template.format(**path_params)
        all_headers = {
            "Authorization": f"Bearer {key}",
            "X-Noukai-API-Version": "2026-05-31",
            **(headers or {}),
        }
        return httpx.request(
            method, url, json=json_body, headers=all_headers, params=params, timeout=30
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("contract")
    (workdir / "keys.yaml").write_text(KEYS)
    looped = workdir / "flows" / "demo" / "examples" / "looped.yaml"
    looped.parent.mkdir(parents=True)
    looped.write_text("blocks: [{id: repeat, type: llm, loop: 2, template: 'r{loop_index}'}]\n")
    launcher = DevServerProcess(
        db=":memory:",
        flow_dirs=(workdir / "flows",),
        keys_file=workdir / "keys.yaml",
        latency_ms=0,
    )
    with launcher:
        yield Server(launcher.base_url)


def conform(
    operation_id: str, response: httpx.Response, request_body: Any = None
) -> list[dict[str, Any]]:
    """Assert ``response`` is what the spec declares for ``operation_id``; return SSE events."""
    _, _, operation = OPERATIONS[operation_id]
    if request_body is not None and "requestBody" in operation:
        body_schema = resolve(operation["requestBody"])["content"]["application/json"]["schema"]
        validator_for(body_schema).validate(request_body)
    declared = operation["responses"]
    status = str(response.status_code)
    assert status in declared, (
        f"{operation_id} answered {status}, not declared ({sorted(declared)})"
    )
    spec_response = resolve(declared[status])
    for header in spec_response.get("headers", {}):
        assert header.lower() in response.headers, (
            f"{operation_id} {status}: missing header {header}"
        )
    assert "x-request-id" in response.headers
    if response.status_code == 429:
        assert "retry-after" in response.headers
    content = spec_response["content"]
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in content, f"{operation_id} {status}: {media_type} not in {list(content)}"
    schema = content[media_type]["schema"]
    if media_type == "application/json":
        validator_for(schema).validate(response.json())
        return []
    return validate_events(response.text)


def validate_events(text: str) -> list[dict[str, Any]]:
    assert "\r" not in text and text.endswith("\n\n")
    mapping = SPEC["components"]["schemas"]["Event"]["discriminator"]["mapping"]
    events = []
    for frame in text[:-2].split("\n\n"):
        lines = frame.split("\n")
        assert (
            len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: ")
        ), frame
        event_type = lines[0].removeprefix("event: ")
        payload = json.loads(lines[1].removeprefix("data: "))
        assert payload["eventType"] == event_type
        assert event_type in mapping, f"event {event_type} is not in the Event discriminator"
        validator_for({"$ref": mapping[event_type]}).validate(payload)
        events.append(payload)
    return events


FLOW = {"org": "demo", "project": "examples"}


def test_execute_responses(server: Server) -> None:
    cases: list[tuple[str, dict[str, Any], str, int]] = [
        ("hello-world", {"message": "hi", **FRESH}, "nk_dev_local", 200),
        ("structured-output", {"message": "a b", **FRESH}, "nk_dev_local", 200),
        ("failing", {"message": "x", **FRESH}, "nk_dev_local", 200),
        ("tools-enabled", {"message": "Paris", "tools": WEATHER, **FRESH}, "nk_dev_local", 200),
        ("tools-enabled", {"message": "Paris", **FRESH}, "nk_dev_local", 400),
        (
            "hello-world",
            {"messages": [{"role": "system", "content": "x"}], **FRESH},
            "nk_dev_local",
            400,
        ),
        (
            "hello-world",
            {"messages": [{"role": "user", "content": "x" * 1_000_001}], **FRESH},
            "nk_dev_local",
            413,
        ),
        ("hello-world", {"message": "hi", **FRESH}, "nk_wrong", 401),
        ("hello-world", {"message": "hi", **FRESH}, "nk_contract_broke", 402),
        ("hello-world", {"message": "hi", **FRESH}, "nk_contract_elsewhere", 403),
        ("no-such-flow", {"message": "hi", **FRESH}, "nk_dev_local", 404),
        ("hello-world", {"message": "hi", **FRESH}, "nk_contract_throttled", 200),
        ("hello-world", {"message": "hi", **FRESH}, "nk_contract_throttled", 429),
    ]
    for slug, body, key, expected in cases:
        response = server.call("execute_flow", key=key, json_body=body, slug=slug, **FLOW)
        assert response.status_code == expected, (slug, key, response.text)
        conform("execute_flow", response, body if expected != 413 else None)

    invalid = server.call("execute_flow", json_body={"message": 5}, slug="hello-world", **FLOW)
    assert invalid.status_code == 422
    conform("execute_flow", invalid)


def test_tool_resume_and_versioned_execute(server: Server) -> None:
    paused = server.call(
        "execute_flow",
        json_body={"message": "Paris", "tools": WEATHER, **FRESH},
        slug="tools-enabled",
        **FLOW,
    ).json()
    call = paused["toolCalls"][0]
    resume = {
        "parameters": {},
        "tools": WEATHER,
        "executionId": paused["executionId"],
        "pausedAtStep": paused["pausedAtStep"],
        "iterationsUsed": paused["iterationsUsed"],
        "toolCallMessages": [
            *paused["toolCallMessages"],
            {"role": "tool", "tool_call_id": call["id"], "content": "ok"},
        ],
        "accumulatedOutputs": paused["accumulatedOutputs"],
        "trace": False,
    }
    done = server.call("execute_flow", json_body=resume, slug="tools-enabled", **FLOW)
    assert done.status_code == 200
    conform("execute_flow", done, resume)
    again = server.call("execute_flow", json_body=resume, slug="tools-enabled", **FLOW)
    assert again.status_code == 409
    conform("execute_flow", again, resume)

    for version, expected in (("1", 200), ("0", 200), ("7", 404)):
        response = server.call(
            "execute_flow_version",
            json_body={"message": "v", **FRESH},
            slug="hello-world",
            version=version,
            **FLOW,
        )
        assert response.status_code == expected
        conform("execute_flow_version", response)


def test_step_streams_and_errors(server: Server) -> None:
    bodies = [
        ("two-step", {**FIRST_STEP, "message": "go"}, 200),
        ("two-step", {**FIRST_STEP, "message": "go", "runRemaining": True}, 200),
        ("streaming", {**FIRST_STEP, "message": "a b c", "runRemaining": True}, 200),
        ("failing", {**FIRST_STEP, "message": "x", "runRemaining": True}, 200),
        ("looped", {**FIRST_STEP, "message": "x", "runRemaining": True}, 200),
        ("tools-enabled", {**FIRST_STEP, "message": "Rome", "tools": WEATHER}, 200),
        ("two-step", {**FIRST_STEP, "stepIndex": 3, "message": "go"}, 400),
        ("two-step", FIRST_STEP, 400),
    ]
    seen: set[str] = set()
    for slug, body, expected in bodies:
        response = server.call("step_flow", json_body=body, slug=slug, **FLOW)
        assert response.status_code == expected, response.text
        seen.update(e["eventType"] for e in conform("step_flow", response, body))
    assert seen >= {
        "run_started",
        "step_started",
        "step_input",
        "step_output",
        "step_completed",
        "step_paused",
        "step_paused_for_tool_calls",
        "step_error",
        "flow_completed",
        "step_progress",
        "loop_completed",
    }

    looped = server.call(
        "step_flow_version",
        json_body={**FIRST_STEP, "message": "x"},
        slug="hello-world",
        version="0",
        **FLOW,
    )
    assert looped.status_code == 400
    conform("step_flow_version", looped)


def test_jobs_traces_and_live_trace(server: Server) -> None:
    accepted = server.call(
        "submit_job", json_body={"message": "job", **FRESH}, slug="hello-world", **FLOW
    )
    assert accepted.status_code == 202
    conform("submit_job", accepted)
    execution_id = accepted.json()["executionId"]
    versioned = server.call(
        "submit_job_version",
        json_body={"message": "job", **FRESH},
        slug="hello-world",
        version="1",
        **FLOW,
    )
    conform("submit_job_version", versioned)
    with_tools = server.call(
        "submit_job",
        json_body={"message": "Paris", "tools": WEATHER, **FRESH},
        slug="tools-enabled",
        **FLOW,
    )
    assert with_tools.status_code == 400
    conform("submit_job", with_tools)

    live = server.call("stream_run_trace", slug="hello-world", executionId=execution_id, **FLOW)
    events = conform("stream_run_trace", live)
    assert events[0]["eventType"] == "run_started" and events[-1]["eventType"] == "flow_completed"

    for ident, expected in ((execution_id, 200), ("exec_missing", 404)):
        conform(
            "get_job",
            _expect(
                server.call("get_job", slug="hello-world", executionId=ident, **FLOW), expected
            ),
        )
        conform(
            "get_run_trace",
            _expect(
                server.call("get_run_trace", slug="hello-world", executionId=ident, **FLOW),
                expected,
            ),
        )

    for params, expected in (
        ({}, 200),
        ({"attempt": "all"}, 200),
        ({"attempt": 1}, 200),
        ({"attempt": "x"}, 400),
        ({"attempt": 9}, 404),
    ):
        response = server.call(
            "get_step_trace",
            slug="hello-world",
            executionId=execution_id,
            stepId="answer",
            params=params,
            **FLOW,
        )
        conform("get_step_trace", _expect(response, expected))


def test_sessions(server: Server) -> None:
    session_id = str(uuid.uuid4())
    for slug in ("hello-world", "failing", "structured-output"):
        server.call(
            "execute_flow",
            json_body={"message": "s", **FRESH},
            headers={"X-Session-Id": session_id},
            slug=slug,
            **FLOW,
        )
    cases = (
        (session_id, "nk_dev_local", 200),
        ("nope", "nk_dev_local", 400),
        (str(uuid.uuid4()), "nk_dev_local", 404),
        (session_id, "nk_wrong", 401),
        (session_id, "nk_contract_elsewhere", 403),
    )
    for ident, key, expected in cases:
        response = server.call("get_session", key=key, sessionId=ident)
        conform("get_session", _expect(response, expected))


def _expect(response: httpx.Response, status: int) -> httpx.Response:
    assert response.status_code == status, response.text
    return response
