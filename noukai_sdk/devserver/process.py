"""Start ``noukai dev-server`` as a child process, for scripts, examples and test fixtures.

The server runs in its own process and is reached over real TCP, exactly as an application reaches
the hosted API. It picks a free loopback port unless told otherwise and announces readiness with
one stdout line; :class:`DevServerProcess` waits for that line, so a started server is ready::

    with DevServerProcess(latency_ms=0) as server:
        client = Noukai(server.api_key, env="dev", dev_port=server.port)
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import IO

from noukai_sdk.devserver._config import READY_MARKER

DEFAULT_API_KEY = "nk_dev_local"


class DevServerError(RuntimeError):
    """The dev server process did not become ready (its stderr is in the message)."""


class DevServerProcess:
    """A ``noukai dev-server`` child process on loopback; a context manager that stops it."""

    def __init__(
        self,
        *,
        port: int = 0,
        db: str | Path | None = None,
        flow_dirs: tuple[str | Path, ...] = (),
        keys_file: str | Path | None = None,
        latency_ms: int | None = None,
        job_pickup_ms: int | None = None,
        api_key: str = DEFAULT_API_KEY,
        startup_timeout: float = 30.0,
    ) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="noukai-dev-server-"))
        self.db = Path(db) if db is not None and str(db) != ":memory:" else db
        if self.db is None:
            self.db = self._workdir / "dev.sqlite3"
        self.flow_dirs = tuple(Path(d) for d in flow_dirs)
        self.keys_file = Path(keys_file) if keys_file is not None else None
        self.latency_ms = latency_ms
        self.job_pickup_ms = job_pickup_ms
        self.api_key = api_key
        self.startup_timeout = startup_timeout
        self.port = port
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None
        self._stderr_path = self._workdir / "server.stderr"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> DevServerProcess:
        """Start the process and wait until it accepts connections."""
        if self._process is not None:
            return self
        lines: queue.Queue[str] = queue.Queue()
        with self._stderr_path.open("a") as stderr:
            process = subprocess.Popen(
                self._command(), stdout=subprocess.PIPE, stderr=stderr, text=True
            )
        self._process = process
        assert process.stdout is not None
        threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
        try:
            while not (line := lines.get(timeout=self.startup_timeout)).startswith(READY_MARKER):
                pass
        except queue.Empty:
            self.stop()
            raise DevServerError(f"dev server did not become ready:\n{self.stderr()}") from None
        self.base_url = line.split()[1]
        self.port = int(self.base_url.rsplit(":", 1)[1].split("/", 1)[0])
        return self

    def stop(self, *, sig: int = signal.SIGTERM) -> int | None:
        """Stop the process (SIGTERM by default) and return its exit status."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(sig)
        try:
            return process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def restart(self) -> int | None:
        """Stop and start again on the same port and database; returns the old exit status."""
        status = self.stop()
        self.start()
        return status

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stderr(self) -> str:
        return self._stderr_path.read_text() if self._stderr_path.exists() else ""

    def __enter__(self) -> DevServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- helpers ---------------------------------------------------------------------------

    def _command(self) -> list[str]:
        command = [sys.executable, "-m", "noukai_sdk.devserver", "--port", str(self.port)]
        command += ["--db", str(self.db)]
        for flow_dir in self.flow_dirs:
            command += ["--flows", str(flow_dir)]
        if self.keys_file is not None:
            command += ["--keys", str(self.keys_file)]
        if self.latency_ms is not None:
            command += ["--latency", str(self.latency_ms)]
        if self.job_pickup_ms is not None:
            command += ["--job-pickup", str(self.job_pickup_ms)]
        return command


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.strip())
