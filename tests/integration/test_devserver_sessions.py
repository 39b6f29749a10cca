"""X-Session-Id capture and GET /seq/sessions/{id}."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from conftest import TEST_KEYS

FRESH = {"parameters": {}, "iterationsUsed": 0, "accumulatedOutputs": {}, "trace": False}


def run_in_session(
    http: httpx.Client, session_id: str, path: str, message: str, **extra: Any
) -> dict[str, Any]:
    response = http.post(
        path, json={"message": message, **FRESH, **extra}, headers={"X-Session-Id": session_id}
    )
    assert response.status_code in (200, 202), response.text
    body: dict[str, Any] = response.json()
    return body


def test_session_groups_executions_in_order_with_snapshots(http: httpx.Client) -> None:
    session_id = str(uuid.uuid4())
    first = run_in_session(http, session_id, "seq/demo/examples/hello-world/execute", "one")
    second = run_in_session(http, session_id, "seq/demo/examples/two-step/execute", "two")
    stepped = http.post(
        "seq/demo/examples/hello-world/step",
        headers={"X-Session-Id": session_id},
        json={
            "stepIndex": 0,
            "accumulatedOutputs": {},
            "message": "three",
            "parameters": {},
            "inputOverrides": {},
            "runRemaining": True,
            "iterationsUsed": 0,
            "trace": False,
        },
    )
    assert stepped.status_code == 200
    job = run_in_session(http, session_id, "seq/demo/examples/hello-world/jobs", "four")
    deadline = time.monotonic() + 10
    while (
        http.get(f"seq/demo/examples/hello-world/jobs/{job['executionId']}").json()["status"]
        != "completed"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    run_in_session(http, str(uuid.uuid4()), "seq/demo/examples/hello-world/execute", "elsewhere")

    session = http.get(f"seq/sessions/{session_id}").json()
    assert session["sessionId"] == session_id
    executions = session["executions"]
    assert [e["triggerType"] for e in executions] == ["execute", "execute", "step", "job"]
    assert executions[0]["executionId"] == first["executionId"]
    assert executions[1]["executionId"] == second["executionId"]
    hello = executions[0]
    assert hello["slug"] == "hello-world" and hello["flowId"] == first["flowId"]
    assert hello["status"] == "completed" and hello["traceCaptureMode"] == "full"
    assert hello["snapshotsAvailable"] is True and hello.get("errorAtStep") is None
    assert hello["startedAt"] and hello["completedAt"]
    [only] = hello["steps"]
    assert only["stepId"] == "answer" and only["attempt"] == 1 and only["status"] == "completed"
    assert only["inputSnapshot"] == {"message": "one", "parameters": {}}
    assert only["outputSnapshot"] == "Hello! You said: one"
    assert [s["stepId"] for s in executions[1]["steps"]] == ["draft", "polish"]


def test_failed_execution_records_error_step(http: httpx.Client) -> None:
    session_id = str(uuid.uuid4())
    run_in_session(http, session_id, "seq/demo/examples/failing/execute", "x")
    [execution] = http.get(f"seq/sessions/{session_id}").json()["executions"]
    assert execution["status"] == "failed" and execution["errorAtStep"] == "explode"
    failed = execution["steps"][-1]
    assert failed["status"] == "failed"
    assert failed["errorSnapshot"]["code"] == "FLOW_EXECUTION_ERROR"


def test_capture_modes_decide_what_is_kept(http: httpx.Client) -> None:
    session_id = str(uuid.uuid4())
    run_in_session(
        http,
        session_id,
        "seq/test/capture/redacted/execute",
        "hi",
        parameters={"password": "hunter2"},
    )
    run_in_session(http, session_id, "seq/test/capture/metadata-only/execute", "hi")
    run_in_session(http, session_id, "seq/test/capture/off/execute", "hi")
    fetched = http.get(f"seq/sessions/{session_id.upper()}")
    assert fetched.status_code == 200, fetched.text
    redacted, metadata, off = fetched.json()["executions"]

    assert redacted["traceCaptureMode"] == "redacted" and redacted["snapshotsAvailable"] is True
    assert redacted["steps"][0]["inputSnapshot"]["parameters"] == {"password": "[REDACTED]"}
    assert redacted["steps"][0]["outputSnapshot"] == {"text": "hi", "password": "[REDACTED]"}

    assert (
        metadata["traceCaptureMode"] == "metadata_only" and metadata["snapshotsAvailable"] is False
    )
    assert metadata["steps"][0]["stepId"] == "only"
    assert (
        "inputSnapshot" not in metadata["steps"][0] and "outputSnapshot" not in metadata["steps"][0]
    )

    assert off["traceCaptureMode"] == "off" and off["snapshotsAvailable"] is False
    assert off["steps"] == []


def test_session_errors(http: httpx.Client) -> None:
    invalid = http.get("seq/sessions/not-a-uuid")
    assert invalid.status_code == 400
    assert (
        invalid.json()["detail"]["message"]
        == "Invalid session id format (expected UUID): 'not-a-uuid'"
    )
    unknown = http.get(f"seq/sessions/{uuid.uuid4()}")
    assert unknown.status_code == 404

    session_id = str(uuid.uuid4())
    run_in_session(http, session_id, "seq/demo/examples/hello-world/execute", "mine")
    stranger = http.get(
        f"seq/sessions/{session_id}", headers={"Authorization": f"Bearer {TEST_KEYS['other']}"}
    )
    assert stranger.status_code == 403
    nobody = http.get(f"seq/sessions/{session_id}", headers={"Authorization": "Bearer nk_nobody"})
    assert nobody.status_code == 401
