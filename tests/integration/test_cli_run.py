"""``noukai run`` in a terminal and through a pipe, against the dev server process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from cli_process import COMMAND, clean_env, dev_env, in_terminal, piped
from conftest import TEST_KEYS, DevServerProcess


@pytest.fixture
def env(dev_server: DevServerProcess) -> dict[str, str]:
    return dev_env(dev_server.api_key, dev_server.port)


def test_a_terminal_shows_each_step_with_duration_tokens_and_cost(env: dict[str, str]) -> None:
    done = in_terminal("run", "demo/examples/two-step", "-m", "hello there", env=env)
    assert done.returncode == 0, done.text
    lines = done.text.splitlines()
    draft = next(line for line in lines if line.startswith("✓ Draft"))
    assert " ms · " in draft and " tokens · $0.0000" in draft
    assert any(line.startswith("✓ Polish") for line in lines)
    assert lines[-1] == "Polished (2 words): Draft: hello there"


def test_a_terminal_prints_streamed_text_once(env: dict[str, str]) -> None:
    done = in_terminal("run", "demo/examples/streaming", "-m", "one two three", env=env)
    assert done.returncode == 0, done.text
    assert done.text.count("one two three") == 1
    assert "✓ Stream the answer" in done.text


def test_output_to_a_file_keeps_the_progress_on_the_terminal(
    env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "answer.txt"
    with target.open("w") as stdout:
        done = in_terminal(
            "run", "demo/examples/streaming", "-m", "one two", env=env, stdout=stdout
        )
    assert done.returncode == 0, done.text
    assert "✓ Stream the answer" in done.text and "one two" not in done.text
    assert target.read_text() == "one two\n"


def test_a_pipe_gets_only_the_result(env: dict[str, str]) -> None:
    done = piped("run", "demo/examples/two-step", "-m", "hello there", env=env)
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "Polished (2 words): Draft: hello there\n",
        "",
    )


def test_structured_output_is_printed_as_json(env: dict[str, str]) -> None:
    done = piped(
        "run", "demo/examples/structured-output", "-m", "a b", "--param", "audience=kids", env=env
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["audience"] == "kids"


def test_format_json_prints_the_final_result(env: dict[str, str]) -> None:
    for run in (piped, in_terminal):
        done = run("run", "demo/examples/hello-world", "-m", "hi", "--format", "json", env=env)
        assert done.returncode == 0, done.text
        body = json.loads(done.stdout[done.stdout.index("{") :])
        assert body["status"] == "completed" and body["result"] == "Hello! You said: hi"
        assert body["executionId"].startswith("exec_")


def test_format_jsonl_prints_every_event_on_its_own_line(env: dict[str, str]) -> None:
    done = piped("run", "demo/examples/streaming", "-m", "a b", "--format", "jsonl", env=env)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [event["eventType"] for event in events]
    assert kinds[0] == "run_started" and kinds[-1] == "flow_completed"
    deltas = [e["outputData"]["delta"] for e in events if e["eventType"] == "step_output"]
    assert "".join(deltas) == "a b"
    completed = next(e for e in events if e["eventType"] == "step_completed")
    assert completed["tokens"]["total"] > 0 and float(completed["costUsd"]) > 0


def test_messages_from_a_file(env: dict[str, str], tmp_path: Path) -> None:
    messages = tmp_path / "chat.json"
    messages.write_text(json.dumps([{"role": "user", "content": "from a file"}]))
    done = piped("run", "demo/examples/hello-world", "--messages", str(messages), env=env)
    assert done.returncode == 0, done.stderr
    assert "from a file" in done.stdout
    both = piped(
        "run",
        "demo/examples/hello-world",
        "--messages",
        str(messages),
        "--format",
        "jsonl",
        env=env,
    )
    assert both.returncode == 2 and "--messages" in both.stderr


def test_a_failed_flow_prints_the_error_on_stderr_and_exits_1(env: dict[str, str]) -> None:
    done = piped("run", "demo/examples/failing", "-m", "hi", env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(
        "noukai run: the flow failed at step 'explode': FLOW_EXECUTION_ERROR"
    )
    assert len(done.stderr.splitlines()) == 1
    shown = in_terminal("run", "demo/examples/failing", "-m", "hi", env=env)
    assert shown.returncode == 1
    assert "✗ Explode" in shown.text and "Traceback" not in shown.text


def test_a_failed_flow_in_json_keeps_the_result_object_and_exits_1(env: dict[str, str]) -> None:
    done = piped("run", "demo/examples/failing", "-m", "hi", "--format", "json", env=env)
    assert done.returncode == 1
    assert json.loads(done.stdout)["status"] == "failed"
    assert "the flow failed at step 'explode'" in done.stderr


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("nk_wrong_key", "the API refused the key (401)"),
        (TEST_KEYS["broke"], "insufficient credits (402)"),
        (TEST_KEYS["demo_only"], "permission denied (403)"),
    ],
)
def test_api_refusals_exit_3_with_one_line(env: dict[str, str], key: str, expected: str) -> None:
    done = piped("run", "test/flows/three-step", "-m", "x", env={**env, "NOUKAI_API_KEY": key})
    assert done.returncode == 3
    assert done.stderr.startswith(f"noukai run: {expected}")
    assert len(done.stderr.splitlines()) == 1


def test_an_unknown_flow_exits_3_and_names_org_and_project(env: dict[str, str]) -> None:
    done = piped("run", "demo/examples/nope", "-m", "x", env=env)
    assert done.returncode == 3
    assert "not found (404)" in done.stderr and "--org/--project" in done.stderr


def test_a_refused_connection_names_the_url_and_exits_4(env: dict[str, str]) -> None:
    done = in_terminal(
        "run", "demo/examples/hello-world", "-m", "x", env={**env, "NOUKAI_DEV_PORT": "1"}
    )
    assert done.returncode == 4
    assert "could not connect to http://localhost:1/api/v1" in done.text
    assert "Traceback" not in done.text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("run", "hello-world", "-m", "x"), "pass --org and --project"),
        (("run", "demo/examples/hello-world", "--param", "novalue"), "KEY=VALUE"),
        (("run", "demo/examples/hello-world", "--version", "latest"), "--version expects"),
        (("run", "demo/examples/hello-world", "--format", "yaml"), "invalid choice"),
    ],
)
def test_usage_errors_exit_2(env: dict[str, str], args: tuple[str, ...], expected: str) -> None:
    done = piped(*args, env=env)
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr


def test_a_missing_key_names_the_option_and_the_variable() -> None:
    done = piped("run", "acme/shop/greet", "-m", "x", env={})
    assert done.returncode == 2
    assert "--api-key" in done.stderr and "NOUKAI_API_KEY" in done.stderr


def test_short_slugs_use_org_and_project(env: dict[str, str]) -> None:
    done = piped("run", "hello-world", "--org", "demo", "--project", "examples", "-m", "x", env=env)
    assert (done.returncode, done.stdout) == (0, "Hello! You said: x\n")


def test_ctrl_c_in_a_terminal_exits_130_without_a_traceback(env: dict[str, str]) -> None:
    done = in_terminal(
        *("run", "demo/examples/slow", "-m", "x", "--param", "delay_ms=30000"),
        env=env,
        interrupt_when=lambda screen: "Think slowly" in screen,
    )
    assert done.returncode == 130
    assert "interrupted" in done.text and "Traceback" not in done.text


def test_ctrl_c_through_a_pipe_exits_130_and_closes_the_stream(env: dict[str, str]) -> None:
    process = subprocess.Popen(
        [
            *COMMAND,
            "run",
            "demo/examples/slow",
            "-m",
            "x",
            "--param",
            "delay_ms=30000",
            "--format",
            "jsonl",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(env),
    )
    assert process.stdout is not None and process.stderr is not None
    while "step_started" not in process.stdout.readline():
        pass
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 130
    assert "Traceback" not in process.stderr.read()


def test_without_rich_the_terminal_view_is_plain_text(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "rich.py").write_text("raise ImportError('rich is not installed here')\n")
    path = os.pathsep.join(filter(None, (str(tmp_path), os.environ.get("PYTHONPATH"))))
    done = in_terminal("run", "demo/examples/two-step", "-m", "hi", env={**env, "PYTHONPATH": path})
    assert done.returncode == 0, done.text
    assert "▸ Draft" in done.text and "✓ Draft" in done.text
    assert "\x1b[" not in done.stdout


def test_debug_shows_the_traceback_without_the_key(env: dict[str, str]) -> None:
    secret = "nk_secret_for_debug_test"
    done = piped(
        *("--debug", "run", "demo/examples/hello-world", "-m", "x"),
        env={**env, "NOUKAI_API_KEY": secret, "NOUKAI_DEV_PORT": "1"},
    )
    assert done.returncode == 4
    assert "Traceback (most recent call last)" in done.stderr
    assert secret not in done.stderr
    assert done.stderr.splitlines()[-1].startswith("noukai run: could not connect")
