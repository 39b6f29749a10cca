"""The progress of ``noukai map`` on stderr: a rich bar (done, failed, rate, ETA) on a terminal,
a self-rewriting line without rich, and a single summary line when stderr is not a terminal."""

from __future__ import annotations

import importlib
import sys
import time
from typing import Any

from noukai_sdk.cli._terminal import format_duration, is_terminal, rich_console, write


class BatchProgress:
    """Counts finished rows and shows them; ``close()`` prints the summary line."""

    def __init__(self, total: int, skipped: int, *, live: bool) -> None:
        self.total = total
        self.skipped = skipped
        self.completed = 0
        self.failed = 0
        self._started = time.monotonic()
        self._console = rich_console(sys.stderr) if live else None
        self._line = live and self._console is None and is_terminal(sys.stderr)
        self._bar: Any = None
        self._task: Any = None
        if self._console is not None:
            self._bar = _rich_bar(self._console)
            self._task = self._bar.add_task(
                "map", total=total, completed=skipped, failed=0, rate=""
            )
            self._bar.start()

    @property
    def done(self) -> int:
        return self.skipped + self.completed + self.failed

    def advance(self, *, ok: bool) -> None:
        if ok:
            self.completed += 1
        else:
            self.failed += 1
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, failed=self.failed, rate=self._rate())
        elif self._line:
            write(
                sys.stderr,
                f"\r{self.done}/{self.total} done, {self.failed} failed, {self._rate()}, "
                f"ETA {self._eta()}",
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self._line:
            write(sys.stderr, "\n")
        elapsed = format_duration((time.monotonic() - self._started) * 1000)
        skipped = f", {self.skipped} already done" if self.skipped else ""
        write(
            sys.stderr,
            f"map: {self.completed} completed, {self.failed} failed{skipped} "
            f"of {self.total} rows in {elapsed} ({self._rate()})\n",
        )

    def _eta(self) -> str:
        elapsed = time.monotonic() - self._started
        finished = self.completed + self.failed
        if not finished or elapsed <= 0:
            return "-"
        return format_duration((self.total - self.done) / (finished / elapsed) * 1000)

    def _rate(self) -> str:
        elapsed = time.monotonic() - self._started
        finished = self.completed + self.failed
        return f"{finished / elapsed:.1f} rows/s" if elapsed > 0 else "- rows/s"


def _rich_bar(console: Any) -> Any:
    progress: Any = importlib.import_module("rich.progress")
    return progress.Progress(
        progress.SpinnerColumn(),
        progress.BarColumn(),
        progress.MofNCompleteColumn(),
        progress.TextColumn("[red]{task.fields[failed]} failed"),
        progress.TextColumn("{task.fields[rate]}"),
        progress.TextColumn("ETA"),
        progress.TimeRemainingColumn(),
        console=console,
        transient=True,
    )
