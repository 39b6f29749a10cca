"""A dev server started with no options behaves as 0.2.0's own integration suite expects.

That suite (see tests/compat/README.md) runs against ``--latency 0`` with the default keys: it
needs a key without credits for its 402 test, and a job that is still ``pending`` when polled right
after submission for its ``wait(timeout=0.01)`` test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import DevServerProcess

import noukai_sdk
from noukai_sdk.devserver._config import DEFAULT_JOB_PICKUP_MS

JOB: dict[str, Any] = {
    "message": "queued",
    "parameters": {},
    "iterationsUsed": 0,
    "accumulatedOutputs": {},
}


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServerProcess]:
    server = DevServerProcess(db=tmp_path_factory.mktemp("defaults") / "dev.sqlite3", latency_ms=0)
    with server:
        yield server


def test_the_no_credits_key_gets_a_402(default_server: DevServerProcess) -> None:
    with (
        noukai_sdk.Noukai("nk_dev_no_credits", env="dev", dev_port=default_server.port) as client,
        pytest.raises(noukai_sdk.InsufficientCreditsError) as raised,
    ):
        client.flow("demo/examples/hello-world").execute("x")
    assert raised.value.status_code == 402
    assert raised.value.code == "INSUFFICIENT_CREDITS"


def test_the_default_key_still_runs(default_server: DevServerProcess) -> None:
    with noukai_sdk.Noukai("nk_dev_local", env="dev", dev_port=default_server.port) as client:
        result = client.flow("demo/examples/hello-world").execute("x")
    assert isinstance(result, noukai_sdk.ExecuteResult)
    assert result.output == "Hello! You said: x"


def test_a_job_polled_right_after_submission_is_pending_even_with_no_latency(
    default_server: DevServerProcess,
) -> None:
    with httpx.Client(
        base_url=default_server.base_url + "/", headers=default_server.headers(), timeout=30
    ) as http:
        # Only a poll answered within the pickup delay says anything (a loaded machine can take
        # longer than that between the two requests): five such polls must all see "pending".
        within_delay = 0
        for _ in range(50):
            started = time.monotonic()
            accepted = http.post("seq/demo/examples/hello-world/jobs", json=JOB).json()
            path = f"seq/demo/examples/hello-world/jobs/{accepted['executionId']}"
            status = http.get(path).json()["status"]
            if time.monotonic() - started < DEFAULT_JOB_PICKUP_MS / 1000:
                assert status == "pending"
                within_delay += 1
                if within_delay == 5:
                    break
        assert within_delay == 5, "the machine was too slow to poll within the pickup delay"
    with noukai_sdk.Noukai("nk_dev_local", env="dev", dev_port=default_server.port) as client:
        job = client.flow("demo/examples/hello-world").execute_async("later")
        with pytest.raises(noukai_sdk.APITimeoutError):
            job.wait(timeout=0.01, poll_interval=0.001)
        assert job.wait(timeout=10, poll_interval=0.02).result == "Hello! You said: later"


def test_a_negative_job_pickup_delay_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "noukai_sdk.devserver", "--port", "0", "--job-pickup", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "--job-pickup must be >= 0" in done.stderr


def test_job_pickup_can_be_immediate(tmp_path: Path) -> None:
    with (
        DevServerProcess(db=tmp_path / "dev.sqlite3", latency_ms=0, job_pickup_ms=0) as server,
        noukai_sdk.Noukai("nk_dev_local", env="dev", dev_port=server.port) as client,
    ):
        job = client.flow("demo/examples/hello-world").execute_async("now")
        assert job.wait(timeout=10, poll_interval=0.01).result == "Hello! You said: now"
