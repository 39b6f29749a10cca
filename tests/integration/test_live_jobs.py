"""Jobs against the dev server with both clients: submit, poll, wait, failures, deadlines."""

from __future__ import annotations

from typing import Any

import pytest

import noukai_sdk


def test_job_wait_sync(client: Any) -> None:
    job = client.flow("demo/examples/hello-world").execute_async("queued", session_id="job-s")
    assert job.execution_id and job.flow_id and job.status
    assert job.session_id == "job-s"
    status = job.wait(timeout=15, poll_interval=0.05)
    assert (status.status, status.result) == ("completed", "Hello! You said: queued")
    assert job.poll().status == "completed"


async def test_job_wait_async(async_client: Any) -> None:
    job = await async_client.flow("demo/examples/hello-world").execute_async("queued")
    status = await job.wait(timeout=15, poll_interval=0.05)
    assert (status.status, status.result) == ("completed", "Hello! You said: queued")


def test_failed_job_is_returned(client: Any) -> None:
    status = (
        client.flow("demo/examples/failing").execute_async("x").wait(timeout=15, poll_interval=0.05)
    )
    assert status.status == "failed"
    assert status.error


async def test_wait_honours_its_deadline(async_client: Any) -> None:
    import time

    job = await async_client.flow("demo/examples/slow").execute_async(
        "x", parameters={"delay_ms": 5000}
    )
    started = time.monotonic()
    with pytest.raises(noukai_sdk.APITimeoutError, match=r"did not complete within 0\.5s"):
        await job.wait(timeout=0.5, poll_interval=0.1)
    assert time.monotonic() - started < 2.0


def test_a_job_is_found_again_by_its_id(client: Any, dev_server: Any) -> None:
    submitted = client.flow("demo/examples/hello-world").execute_async("find me")
    # Another client, as another process would have: only the id is carried over.
    with noukai_sdk.Noukai(dev_server.api_key, env="dev", dev_port=dev_server.port) as other:
        again = other.flow("demo/examples/hello-world").job(submitted.execution_id)
        status = again.wait(timeout=15, poll_interval=0.05)
    assert (status.execution_id, status.status) == (submitted.execution_id, "completed")
    assert status.result == "Hello! You said: find me"


async def test_a_job_is_found_again_by_its_id_on_the_async_client(async_client: Any) -> None:
    flow = async_client.flow("demo/examples/hello-world")
    submitted = await flow.execute_async("find me")
    status = await flow.job(submitted.execution_id).wait(timeout=15, poll_interval=0.05)
    assert (status.status, status.result) == ("completed", "Hello! You said: find me")


def test_an_unknown_job_id_is_not_found_at_once(client: Any) -> None:
    with pytest.raises(noukai_sdk.FlowNotFoundError):
        client.flow("demo/examples/hello-world").job("exec_does_not_exist").poll()
