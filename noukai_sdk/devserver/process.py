"""Start ``noukai dev-server`` as a child process, for scripts, examples and test fixtures.

The server runs in its own process and is reached over real TCP, exactly as an application reaches
the hosted API. It picks a free loopback port unless told otherwise and announces readiness with
one stdout line; :class:`DevServerProcess` waits for that line, so a started server is ready::

    with DevServerProcess(latency_ms=0) as server:
        client = Noukai(server.api_key, env="dev", dev_port=server.port)
"""

from __future__ import annotations

import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, NoReturn

from noukai_sdk.devserver._config import READY_MARKER

DEFAULT_API_KEY = "nk_dev_local"


class DevServerError(RuntimeError):
    """The dev server process did not become ready (the end of its stderr is in the message)."""


_STDERR_LINES = 20


class DevServerProcess:
    """A ``noukai dev-server`` child process on loopback; a context manager that stops it.

    Its stderr (and, without ``db=``, its database) lives in a temporary directory that
    :meth:`stop` removes; :meth:`stderr` still answers afterwards, and :meth:`restart` keeps it.
    """

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
        self._own_db = db is None
        self.db = Path(db) if db is not None and str(db) != ":memory:" else db
        self.flow_dirs = tuple(Path(d) for d in flow_dirs)
        self.keys_file = Path(keys_file) if keys_file is not None else None
        self.latency_ms = latency_ms
        self.job_pickup_ms = job_pickup_ms
        self.api_key = api_key
        self.startup_timeout = startup_timeout
        self.port = port
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None
        self._workdir: Path | None = None
        self._last_stderr = ""

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> DevServerProcess:
        """Start the process and wait until it accepts connections.

        Raises :class:`DevServerError` at once when the process exits before it is ready, or
        after ``startup_timeout`` seconds without the ready line.
        """
        if self._process is not None:
            return self
        workdir = self._ensure_workdir()
        lines: queue.Queue[str | None] = queue.Queue()
        with (workdir / "server.stderr").open("a") as stderr:
            # The child stops when this pipe closes: it never outlives this process, even killed.
            process = subprocess.Popen(
                self._command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        self._process = process
        assert process.stdout is not None
        threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self._fail(f"did not become ready within {self.startup_timeout:g} s")
            if line is None:
                self._fail(f"exited with status {process.wait()} before it was ready")
            if line.startswith(READY_MARKER):
                break
        self.base_url = line.split()[1]
        self.port = int(self.base_url.rsplit(":", 1)[1].split("/", 1)[0])
        return self

    def stop(self, *, sig: int = signal.SIGTERM) -> int | None:
        """Stop the process (SIGTERM by default), remove the temporary directory, and return the
        process's exit status (``None`` when it was not running)."""
        status = self._stop_process(sig)
        self._remove_workdir()
        return status

    def restart(self) -> int | None:
        """Stop and start again on the same port and database; returns the old exit status."""
        status = self._stop_process(signal.SIGTERM)
        self.start()
        return status

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stderr(self) -> str:
        """What the process wrote to stderr (also after :meth:`stop`)."""
        path = None if self._workdir is None else self._workdir / "server.stderr"
        return path.read_text() if path is not None and path.exists() else self._last_stderr

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

    def _ensure_workdir(self) -> Path:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="noukai-dev-server-"))
            if self._own_db:
                self.db = self._workdir / "dev.sqlite3"
        return self._workdir

    def _remove_workdir(self) -> None:
        if self._workdir is None:
            return
        self._last_stderr = self.stderr()
        shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None

    def _stop_process(self, sig: int) -> int | None:
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
        finally:
            if process.stdin is not None:
                process.stdin.close()

    def _fail(self, reason: str) -> NoReturn:
        self._stop_process(signal.SIGKILL)
        self._remove_workdir()
        tail = "\n".join(self._last_stderr.splitlines()[-_STDERR_LINES:])
        raise DevServerError(f"dev server {reason}:\n{tail}" if tail else f"dev server {reason}")

    def _command(self) -> list[str]:
        command = [sys.executable, "-m", "noukai_sdk.devserver", "--stop-with-stdin"]
        command += ["--port", str(self.port)]
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


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.strip())
    lines.put(None)  # end of stdout: the process has exited
