"""Starting and stopping ``noukai dev-server``: what it refuses, what it prints, how it stops."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import READY_MARKER

DEV_SERVER = [sys.executable, "-m", "noukai_sdk.cli", "dev-server"]
QUICK = ["--port", "0", "--db", ":memory:", "--latency", "0"]


def run_dev_server(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DEV_SERVER, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "::", ""])
def test_beyond_loopback_the_default_key_is_refused(host: str) -> None:
    done = run_dev_server("--host", host, *QUICK)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert "refusing to listen" in done.stderr and "nk_dev_local" in done.stderr
    assert "--keys" in done.stderr and "Traceback" not in done.stderr


def test_beyond_loopback_with_a_keys_file_it_serves(tmp_path: Path) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text("keys:\n  nk_team_only_3b9f: {}\n")
    process = subprocess.Popen(
        [*DEV_SERVER, "--host", "0.0.0.0", "--keys", str(keys), *QUICK],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        ready = process.stdout.readline().split()
        assert ready[0] == READY_MARKER and ready[1].startswith("http://0.0.0.0:")
        port = ready[1].split(":")[2].split("/")[0]
        response = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/seq/demo/examples/hello-world/execute",
            json={"message": "hi"},
            headers={"Authorization": "Bearer nk_dev_local"},
        )
        assert response.status_code == 401  # only the file's keys are served
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    assert "Traceback" not in process.stderr.read()


@pytest.mark.parametrize("module", ["uvicorn", "starlette", "yaml"])
def test_without_the_extra_it_names_the_extra_to_install(module: str) -> None:
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from noukai_sdk.cli import main\n"
        "sys.exit(main(['dev-server', '--port', '0', '--db', ':memory:']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "pip install 'noukai-sdk[devserver]'" in done.stderr
    assert "Traceback" not in done.stderr


def read_until(fd: int, count: int, deadline: float) -> list[str]:
    """The first ``count`` lines written to the pseudo-terminal whose master is ``fd``."""
    buffer = b""
    while buffer.count(b"\n") < count:
        assert time.monotonic() < deadline, buffer
        readable, _, _ = select.select([fd], [], [], 1)
        if readable:
            buffer += os.read(fd, 4096)
    return buffer.decode().replace("\r\n", "\n").splitlines()[:count]


def test_on_a_terminal_it_prints_a_line_for_people_after_the_ready_line() -> None:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*DEV_SERVER, *QUICK, "--no-access-log"],
        stdout=terminal,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    os.close(terminal)
    try:
        ready, human = read_until(controller, 2, time.monotonic() + 60)
    finally:
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=15)
        os.close(controller)
    assert ready.startswith(READY_MARKER + " http://127.0.0.1:")
    url = ready.split()[1]
    assert human == f"Noukai dev server running at {url} with API key nk_dev_local (Ctrl-C to stop)"
    assert status == 0
    assert process.stderr is not None and "Traceback" not in process.stderr.read()


def test_through_a_pipe_it_prints_only_the_ready_line() -> None:
    process = subprocess.Popen(
        [*DEV_SERVER, *QUICK, "--no-access-log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith(READY_MARKER)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=15)
    assert (process.returncode, out, err) == (0, "", "")


def catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler installed for ``signum`` (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_while_it_is_still_starting_is_quiet(
    tmp_path: Path, signum: int, status: int
) -> None:
    # Many flow files make the start slow enough to be stopped in the middle of it.
    for index in range(1500):
        flow = tmp_path / "flows" / "many" / "flows" / f"flow-{index}.yaml"
        flow.parent.mkdir(parents=True, exist_ok=True)
        flow.write_text(f"blocks: [{{id: a{index}, type: llm, template: 'n {{message}}'}}]\n")
    process = subprocess.Popen(
        [*DEV_SERVER, *QUICK, "--flows", str(tmp_path / "flows")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not catches(process.pid, signal.SIGTERM):  # the command has taken over the stop
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.001)
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert "Traceback" not in err, err
    assert READY_MARKER not in out  # it was stopped before it was ready
    assert process.returncode == status
