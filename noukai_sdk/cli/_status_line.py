"""One "what is running now" line on stderr: a rich spinner on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import Any

from noukai_sdk.cli._terminal import rich_console, write


class StatusLine:
    """Shows the running activity and prints finished ones as permanent lines on stderr."""

    def __init__(self) -> None:
        self._console: Any | None = rich_console(sys.stderr)
        self._status: Any | None = None
        self._running: str | None = None

    @property
    def rich(self) -> bool:
        return self._console is not None

    def running(self, text: str) -> None:
        """Show ``text`` as the current activity (a spinner with rich, one ``▸`` line without)."""
        if self._console is None:
            if text != self._running:
                write(sys.stderr, f"▸ {text}\n")
        elif self._status is None:
            status = self._console.status(text, spinner="dots")
            status.start()
            self._status = status
        else:
            self._status.update(text)
        self._running = text

    def pause(self) -> None:
        """Hide the spinner so other output (streamed text on stdout) can use the terminal."""
        if self._status is not None:
            self._status.stop()
            self._status = None

    def done(self, text: str, *, ok: bool = True) -> None:
        """End the current activity with a permanent ``✓``/``✗`` line."""
        self.pause()
        self._running = None
        mark = "✓" if ok else "✗"
        if self._console is None:
            write(sys.stderr, f"{mark} {text}\n")
        else:
            style = "green" if ok else "bold red"
            self._console.print(f"[{style}]{mark}[/] ", end="")
            self._console.print(text, markup=False)

    def close(self) -> None:
        self.pause()
