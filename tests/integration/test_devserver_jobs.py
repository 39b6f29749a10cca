"""POST …/jobs and GET …/jobs/{id}: a real queue with a worker that survives restarts."""

from __future__ import annotations

import time
from typing import Any

import httpx
from conftest import DevServerProcess

JOB = {"parameters": {}, "iterationsUsed": 0, "accumulatedOutputs": {}, "trace": False}


def submit(http: httpx.Client, slug: str, message: str, **extra: Any) -> dict[str, Any]:
    response = http.post(
        f"seq/demo/examples/{slug}/jobs", json={"message": message, **JOB, **extra}
    )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_for(
    http: httpx.Client, slug: str, execution_id: str, timeout: float = 15.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, Any] = http.get(f"seq/demo/examples/{slug}/jobs/{execution_id}").json()
        if status["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def test_job_goes_from_pending_to_completed(http: httpx.Client) -> None:
    accepted = submit(http, "slow", "later", parameters={"delay_ms": 300})
    assert accepted["status"] == "pending"
    assert accepted["blockCount"] == 1 and accepted["flowId"]
    first = http.get(f"seq/demo/examples/slow/jobs/{accepted['executionId']}").json()
    assert first["status"] in ("pending", "running")
    done = wait_for(http, "slow", accepted["executionId"])
    assert done == {
        "executionId": accepted["executionId"],
        "status": "completed",
        "result": "After a while: later",
    }


def test_failed_job_reports_its_error(http: httpx.Client) -> None:
    accepted = submit(http, "failing", "x")
    done = wait_for(http, "failing", accepted["executionId"])
    assert done["status"] == "failed"
    assert done["error"].startswith("FLOW_EXECUTION_ERROR: ")


def test_versioned_submit_is_polled_unversioned(http: httpx.Client) -> None:
    response = http.post("seq/demo/examples/hello-world/v1/jobs", json={"message": "v", **JOB})
    assert response.status_code == 202
    done = wait_for(http, "hello-world", response.json()["executionId"])
    assert done["result"] == "Hello! You said: v"


def test_job_errors(http: httpx.Client) -> None:
    unknown = http.get("seq/demo/examples/hello-world/jobs/exec_nope")
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["code"] == "JOB_NOT_FOUND"
    tools = http.post(
        "seq/demo/examples/tools-enabled/jobs",
        json={
            "message": "Paris",
            **JOB,
            "tools": [{"type": "function", "function": {"name": "get_weather"}}],
        },
    )
    assert tools.status_code == 400
    assert tools.json()["detail"]["code"] == "TOOLS_REQUIRE_SYNC_EXECUTE"
    executed = http.post(
        "seq/demo/examples/hello-world/execute", json={"message": "m", **JOB}
    ).json()
    not_a_job = http.get(f"seq/demo/examples/hello-world/jobs/{executed['executionId']}")
    assert not_a_job.status_code == 404
    other_flow = submit(http, "hello-world", "m")
    assert (
        http.get(f"seq/demo/examples/two-step/jobs/{other_flow['executionId']}").status_code == 404
    )


def test_queued_jobs_survive_a_restart(dev_server: DevServerProcess, http: httpx.Client) -> None:
    busy = submit(http, "slow", "busy", parameters={"delay_ms": 1500})
    queued = submit(http, "hello-world", "after restart")
    assert (
        http.get(f"seq/demo/examples/hello-world/jobs/{queued['executionId']}").json()["status"]
        == "pending"
    )

    assert dev_server.restart() == 0

    with httpx.Client(
        base_url=dev_server.base_url + "/", headers=dev_server.headers(), timeout=30
    ) as fresh:
        assert (
            wait_for(fresh, "hello-world", queued["executionId"])["result"]
            == "Hello! You said: after restart"
        )
        assert wait_for(fresh, "slow", busy["executionId"])["status"] == "completed"
