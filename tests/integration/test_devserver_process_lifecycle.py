"""``DevServerProcess``: a server that dies while starting fails at once with its stderr, and the
temporary directory goes away with the server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from noukai_sdk.devserver.process import DevServerError, DevServerProcess


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where ``tempfile`` creates directories during the test (to see what is left behind)."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    yield root


def leftovers(root: Path) -> list[Path]:
    return sorted(root.glob("noukai-dev-server-*"))


def test_a_server_that_exits_while_starting_fails_at_once_with_its_stderr(
    temp_root: Path, tmp_path: Path
) -> None:
    # A start timeout this long would make the test hang if the launcher waited it out.
    server = DevServerProcess(flow_dirs=(tmp_path / "no-such-dir",), startup_timeout=3600)
    with pytest.raises(DevServerError) as failure:
        server.start()
    message = str(failure.value)
    assert "exited with status 2 before it was ready" in message
    assert "no-such-dir" in message and "does not exist" in message
    assert not server.running
    assert leftovers(temp_root) == []


def test_a_port_in_use_is_reported_from_the_child(temp_root: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = DevServerProcess(port=taken.getsockname()[1], startup_timeout=3600)
        with pytest.raises(DevServerError, match=r"cannot listen on 127\.0\.0\.1"):
            server.start()
    assert leftovers(temp_root) == []


def test_stop_removes_the_temporary_directory_and_keeps_stderr(temp_root: Path) -> None:
    with DevServerProcess(latency_ms=0) as server:
        assert len(leftovers(temp_root)) == 1
        assert server.db is not None and Path(server.db).parent == leftovers(temp_root)[0]
        reply = httpx.get(f"http://127.0.0.1:{server.port}/healthz")
        assert reply.status_code == 200
    assert leftovers(temp_root) == []
    assert reply.headers["x-request-id"] in server.stderr()  # the access log outlives the dir


def test_restart_keeps_the_default_database(temp_root: Path) -> None:
    with DevServerProcess(latency_ms=0) as server:
        headers = {"Authorization": f"Bearer {server.api_key}"}
        run = httpx.post(
            server.base_url + "/seq/demo/examples/hello-world/execute",
            json={"message": "kept"},
            headers=headers,
        ).json()["executionId"]
        assert server.restart() == 0
        trace = httpx.get(
            f"{server.base_url}/seq/demo/examples/hello-world/runs/{run}/trace", headers=headers
        )
        assert trace.status_code == 200
    assert leftovers(temp_root) == []


def test_a_stopped_server_can_start_again(temp_root: Path) -> None:
    server = DevServerProcess(latency_ms=0)
    server.start()
    assert server.stop() == 0
    assert server.stop() is None
    with server:
        assert httpx.get(f"http://127.0.0.1:{server.port}/healthz").status_code == 200
    assert leftovers(temp_root) == []


PARENT = """\
import sys, time
from noukai_sdk.devserver.process import DevServerProcess
server = DevServerProcess(latency_ms=0).start()
print(server.port, flush=True)
time.sleep(600)
"""


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except OSError:
        return True
    return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_the_server_stops_when_the_process_that_started_it_is_killed(
    tmp_path: Path, sig: int
) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert parent.stdout is not None
    port = int(parent.stdout.readline())
    assert not refuses_connections(port)
    parent.send_signal(sig)  # no cleanup runs in the parent: only the closed pipe tells the child
    parent.wait(timeout=15)
    deadline = time.monotonic() + 30
    while not refuses_connections(port):
        assert time.monotonic() < deadline, "the dev server outlived its parent"
        time.sleep(0.05)
