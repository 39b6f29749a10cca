"""The ``noukai`` command: ``run``, ``session export`` and ``dev-server`` start/stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from conftest import READY_MARKER, DevServerProcess

FRESH = {"parameters": {}, "iterationsUsed": 0, "accumulatedOutputs": {}, "trace": False}


def noukai(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "noukai_sdk.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def dev_env(dev_server: DevServerProcess) -> dict[str, str]:
    return {
        "NOUKAI_API_KEY": dev_server.api_key,
        "NOUKAI_ENV": "dev",
        "NOUKAI_DEV_PORT": str(dev_server.port),
    }


def test_run_prints_the_result(dev_env: dict[str, str]) -> None:
    done = noukai("run", "demo/examples/hello-world", "-m", "hi", env=dev_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello! You said: hi\n"


def test_run_against_the_dev_server_needs_no_key(dev_server: DevServerProcess) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NOUKAI_API_KEY", "NOUKAI_ENV")}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "noukai_sdk.cli", "run", "demo/examples/hello-world"),
            *("-m", "hi", "--env", "dev", "--dev-port", str(dev_server.port)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello! You said: hi\n"


def test_production_never_gets_a_made_up_key() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NOUKAI_API_KEY", "NOUKAI_ENV")}
    done = subprocess.run(
        [sys.executable, "-m", "noukai_sdk.cli", "run", "o/p/s", "-m", "hi"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode != 0
    assert "No API key provided" in done.stderr


def test_run_with_params_and_json(dev_env: dict[str, str]) -> None:
    done = noukai(
        "run",
        "demo/examples/structured-output",
        "-m",
        "a b",
        "--param",
        "audience=kids",
        "--json",
        env=dev_env,
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["status"] == "completed"
    assert body["result"] == {"text": "a b", "word_count": 2, "char_count": 3, "audience": "kids"}


def test_run_reports_errors_and_failed_runs(dev_env: dict[str, str]) -> None:
    missing = noukai("run", "demo/examples/nope", "-m", "hi", env=dev_env)
    assert missing.returncode == 3  # the API refused the request
    assert "not found (404)" in missing.stderr
    failed = noukai("run", "demo/examples/failing", "-m", "hi", "--json", env=dev_env)
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["status"] == "failed"
    bad_param = noukai("run", "demo/examples/hello-world", "--param", "novalue", env=dev_env)
    assert bad_param.returncode != 0 and "KEY=VALUE" in bad_param.stderr


def test_session_export_writes_a_cassette(
    dev_env: dict[str, str], http: httpx.Client, tmp_path: Path
) -> None:
    session_id = str(uuid.uuid4())
    http.post(
        "seq/demo/examples/hello-world/execute",
        json={"message": "rec", **FRESH},
        headers={"X-Session-Id": session_id},
    )
    target = tmp_path / "cassette.json"
    done = noukai("session", "export", session_id, "-o", str(target), env=dev_env)
    assert done.returncode == 0, done.stderr
    assert session_id in target.read_text()


def test_dev_server_binds_loopback_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "noukai_sdk.cli",
            "dev-server",
            "--port",
            "0",
            "--db",
            str(tmp_path / "db.sqlite3"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready = process.stdout.readline().split()
    assert ready[0] == READY_MARKER
    assert ready[1].startswith("http://127.0.0.1:") and ready[1].endswith("/api/v1")
    port = int(ready[1].split(":")[2].split("/")[0])
    assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0
    assert (tmp_path / "db.sqlite3").exists()


def test_help_lists_the_commands() -> None:
    done = noukai("--help")
    assert done.returncode == 0
    for command in ("dev-server", "run", "session"):
        assert command in done.stdout


def test_dev_server_rejects_a_malformed_flow_file_by_name(tmp_path: Path) -> None:
    bad = tmp_path / "flows" / "acme" / "shop" / "broken.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_text("blocks:\n  - {id: a, type: teleport}\n")
    done = noukai(
        "dev-server", "--port", "0", "--db", ":memory:", "--flows", str(tmp_path / "flows")
    )
    assert done.returncode == 2
    assert "broken.yaml" in done.stderr and "type must be one of" in done.stderr
    assert "Traceback" not in done.stderr


def test_dev_server_serves_flows_from_a_directory(tmp_path: Path) -> None:
    flow = tmp_path / "flows" / "acme" / "shop" / "greet.yaml"
    flow.parent.mkdir(parents=True)
    flow.write_text("blocks: [{id: hi, type: llm, template: 'Hi {parameters.name}'}]\n")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "noukai_sdk.cli",
            "dev-server",
            "--port",
            "0",
            "--db",
            ":memory:",
            "--latency",
            "0",
            "--flows",
            str(tmp_path / "flows"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        base_url = process.stdout.readline().split()[1]
        response = httpx.post(
            f"{base_url}/seq/acme/shop/greet/execute",
            json={
                "parameters": {"name": "Ada"},
                "iterationsUsed": 0,
                "accumulatedOutputs": {},
                "trace": False,
            },
            headers={"Authorization": "Bearer nk_dev_local"},
        )
        assert response.json()["result"] == "Hi Ada"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
