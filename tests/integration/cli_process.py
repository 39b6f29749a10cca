"""Run the ``noukai`` command as a child process, through pipes or in a pseudo-terminal.

A pseudo-terminal makes the command believe a person is watching (``isatty()`` is true), which is
what switches on the live step view, spinners and progress bars.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

COMMAND = (sys.executable, "-m", "noukai_sdk.cli")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str = ""

    @property
    def text(self) -> str:
        """Everything the terminal showed, without escape sequences."""
        return _ANSI.sub("", self.stdout + self.stderr)


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOUKAI_")}
    return {**env, "TERM": "xterm-256color", "COLUMNS": "120", **extra}


def piped(*args: str, env: dict[str, str], stdin: str | None = None) -> Finished:
    done = subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(env),
        input=stdin,
    )
    return Finished(done.returncode, done.stdout, done.stderr)


def in_terminal(
    *args: str,
    env: dict[str, str],
    interrupt_when: Callable[[str], bool] | None = None,
    stdout: IO[str] | None = None,
    timeout: float = 120,
) -> Finished:
    """Run with stdin, stdout and stderr on one pseudo-terminal (or stdout redirected to the file
    ``stdout``); optionally press Ctrl-C (SIGINT) once the screen shows what ``interrupt_when``
    waits for."""
    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        [*COMMAND, *args],
        stdin=terminal,
        stdout=terminal if stdout is None else stdout,
        stderr=terminal,
        env=clean_env(env),
    )
    os.close(terminal)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    interrupted = interrupt_when is None
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            elif process.poll() is not None:
                break
            if not interrupted and interrupt_when is not None:
                shown = _ANSI.sub("", b"".join(chunks).decode(errors="replace"))
                if interrupt_when(shown):
                    process.send_signal(signal.SIGINT)
                    interrupted = True
        returncode = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    return Finished(returncode, b"".join(chunks).decode(errors="replace"))


def dev_env(api_key: str, port: int) -> dict[str, str]:
    """The environment that points the command at the test dev server."""
    return {"NOUKAI_API_KEY": api_key, "NOUKAI_ENV": "dev", "NOUKAI_DEV_PORT": str(port)}
