"""``noukai job``, ``noukai trace`` and ``noukai session export`` against the dev server process."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from cli_process import dev_env, in_terminal, piped
from conftest import DevServerProcess

FRESH = {"parameters": {}, "iterationsUsed": 0, "accumulatedOutputs": {}, "trace": False}


@pytest.fixture
def env(dev_server: DevServerProcess) -> dict[str, str]:
    return dev_env(dev_server.api_key, dev_server.port)


def submit(env: dict[str, str], flow: str = "demo/examples/two-step") -> str:
    done = piped("job", "submit", flow, "-m", "hello there", env=env)
    assert done.returncode == 0, done.stderr
    execution_id = done.stdout.strip()
    assert execution_id.startswith("exec_")
    return execution_id


def test_job_submit_then_wait_prints_the_result(env: dict[str, str]) -> None:
    execution_id = submit(env)
    done = piped(
        "job", "wait", "demo/examples/two-step", execution_id, "--poll-interval", "0.05", env=env
    )
    assert (done.returncode, done.stdout) == (0, "Polished (2 words): Draft: hello there\n")
    status = piped("job", "status", "demo/examples/two-step", execution_id, env=env)
    assert (status.returncode, status.stdout) == (0, "completed\n")
    as_json = piped(
        "job", "status", "demo/examples/two-step", execution_id, "--format", "json", env=env
    )
    assert json.loads(as_json.stdout)["result"] == "Polished (2 words): Draft: hello there"


def test_job_commands_in_a_terminal(env: dict[str, str]) -> None:
    done = in_terminal(
        *(
            "job",
            "submit",
            "demo/examples/hello-world",
            "-m",
            "queued",
            "--wait",
            "--poll-interval",
            "0.05",
        ),
        env=env,
    )
    assert done.returncode == 0, done.text
    assert done.text.splitlines()[-1] == "Hello! You said: queued"


def test_a_failed_job_exits_1_with_its_error(env: dict[str, str]) -> None:
    execution_id = submit(env, "demo/examples/failing")
    done = piped(
        "job", "wait", "demo/examples/failing", execution_id, "--poll-interval", "0.05", env=env
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"job {execution_id} failed: FLOW_EXECUTION_ERROR" in done.stderr


def test_an_unknown_job_is_not_found_at_once(env: dict[str, str]) -> None:
    done = piped("job", "status", "demo/examples/two-step", "exec_does_not_exist", env=env)
    assert done.returncode == 3
    assert "not found (404)" in done.stderr


def test_a_job_wait_that_runs_out_of_time_exits_4(env: dict[str, str]) -> None:
    done = piped(
        *("job", "submit", "demo/examples/slow", "-m", "x", "--param", "delay_ms=5000"),
        *("--wait", "--timeout", "0.3", "--poll-interval", "0.1"),
        env=env,
    )
    assert done.returncode == 4
    assert "timed out" in done.stderr


def test_trace_shows_a_table_of_steps(env: dict[str, str]) -> None:
    execution_id = submit(env)
    piped("job", "wait", "demo/examples/two-step", execution_id, "--poll-interval", "0.05", env=env)
    for run in (piped, in_terminal):
        done = run("trace", "demo/examples/two-step", execution_id, env=env)
        assert done.returncode == 0, done.text
        lines = [line for line in done.text.splitlines() if line.strip()]
        assert lines[0].startswith("run run_") and "completed" in lines[0]
        for column in ("step", "attempt", "status", "duration", "tokens", "cost"):
            assert column in lines[1]
        assert any("draft" in line and "completed" in line and "$0.0000" in line for line in lines)
        assert any("polish" in line for line in lines)


def test_trace_of_one_step_with_every_attempt(env: dict[str, str]) -> None:
    execution_id = submit(env)
    piped("job", "wait", "demo/examples/two-step", execution_id, "--poll-interval", "0.05", env=env)
    done = piped(
        "trace",
        "demo/examples/two-step",
        execution_id,
        "--step",
        "polish",
        "--attempt",
        "all",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()[1:]
    assert len(rows) == 1 and rows[0].split()[:3] == ["polish", "1", "completed"]
    as_json = piped(
        *("trace", "demo/examples/two-step", execution_id, "--step", "polish"),
        *("--attempt", "all", "--format", "json"),
        env=env,
    )
    assert json.loads(as_json.stdout)["attempts"][0]["stepId"] == "polish"
    needs_step = piped("trace", "demo/examples/two-step", execution_id, "--attempt", "all", env=env)
    assert needs_step.returncode == 2 and "--attempt needs --step" in needs_step.stderr


def record_session(http: httpx.Client) -> str:
    session_id = str(uuid.uuid4())
    response = http.post(
        "seq/demo/examples/hello-world/execute",
        json={"message": "rec", **FRESH},
        headers={"X-Session-Id": session_id},
    )
    assert response.status_code == 200
    return session_id


def test_session_export_to_a_file(env: dict[str, str], http: httpx.Client, tmp_path: Path) -> None:
    session_id = record_session(http)
    target = tmp_path / "cassette.json"
    done = in_terminal("session", "export", session_id, "-o", str(target), env=env)
    assert done.returncode == 0, done.text
    assert f"wrote {target}" in done.text
    assert session_id in target.read_text()


def test_session_export_to_a_directory_writes_id_json(
    env: dict[str, str], http: httpx.Client, tmp_path: Path
) -> None:
    session_id = record_session(http)
    done = piped("session", "export", session_id, "-o", str(tmp_path), env=env)
    assert done.returncode == 0, done.stderr
    assert session_id in (tmp_path / f"{session_id}.json").read_text()


def test_session_export_into_a_missing_directory_is_one_line(
    env: dict[str, str], http: httpx.Client, tmp_path: Path
) -> None:
    session_id = record_session(http)
    done = piped("session", "export", session_id, "-o", str(tmp_path / "nope" / "c.json"), env=env)
    assert done.returncode == 2
    assert (
        done.stderr
        == f"noukai session export: cannot write {tmp_path / 'nope' / 'c.json'}: directory {tmp_path / 'nope'} does not exist\n"
    )


def test_session_export_of_an_unknown_session_exits_3(env: dict[str, str], tmp_path: Path) -> None:
    done = piped("session", "export", str(uuid.uuid4()), "-o", str(tmp_path / "c.json"), env=env)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr and not (tmp_path / "c.json").exists()
