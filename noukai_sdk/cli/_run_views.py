"""How ``noukai run`` shows the events of a run: live on a terminal, one JSON line each, or silent.

Each view gets every event of ``flow.events(..., run_remaining=True)`` in order; the command itself
decides success or failure, so views only render.
"""

from __future__ import annotations

import sys
from typing import Any

from noukai_sdk.cli._status_line import StatusLine
from noukai_sdk.cli._terminal import (
    format_cost,
    format_duration,
    format_tokens,
    print_json_line,
    wire_json,
    write,
)


def text_delta(event: Any) -> str | None:
    """The text a ``step_output`` event adds to a streamed answer, if it carries one."""
    data = getattr(event, "output_data", None)
    if isinstance(data, dict):
        delta = data.get("delta")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        return delta if isinstance(delta, str) else None
    return None


class QuietView:
    """Shows nothing while the run works (stdout is a pipe: only the result is printed)."""

    streamed_result = False

    def handle(self, event: Any) -> None:
        return None

    def close(self) -> None:
        return None


class JsonLinesView:
    """Every event as one JSON object per line on stdout, with the API's field names."""

    streamed_result = False

    def handle(self, event: Any) -> None:
        print_json_line(wire_json(event))

    def close(self) -> None:
        return None


class LiveView:
    """Steps as they run: a spinner per running step, then its duration, tokens and cost on stderr;
    with ``echo_text``, streamed text deltas go to stdout as they arrive."""

    def __init__(self, *, echo_text: bool = True) -> None:
        self._echo_text = echo_text
        self._status = StatusLine()
        self._streamed: dict[str, list[str]] = {}
        self._names: dict[str, str] = {}
        self._last_streamed_text: str | None = None
        self.streamed_result = False
        """Whether the last streamed text is the flow's result (so it need not be printed again)."""

    def handle(self, event: Any) -> None:
        kind = event.type
        if kind == "step_started":
            self._names[event.step_id] = event.name or event.step_id
            self._status.running(self._names[event.step_id])
        elif kind == "step_progress":
            self._progress(event)
        elif kind == "step_output":
            delta = text_delta(event)
            if delta is not None and self._echo_text:
                self._status.pause()
                self._streamed.setdefault(event.step_id, []).append(delta)
                write(sys.stdout, delta)
        elif kind == "step_completed":
            self._end_stream(event.step_id)
            tokens = event.tokens.total if event.tokens is not None else None
            details = " · ".join(
                (
                    format_duration(event.duration_ms),
                    format_tokens(tokens),
                    format_cost(event.cost_usd),
                )
            )
            self._status.done(f"{self._name(event)}  {details}")
        elif kind == "step_error":
            self._end_stream(event.step_id)
            self._status.done(f"{self._name(event)}  failed", ok=False)
        elif kind == "flow_completed":
            self.streamed_result = (
                isinstance(event.result, str) and event.result == self._last_streamed_text
            )

    def close(self) -> None:
        self._status.close()

    def _progress(self, event: Any) -> None:
        name: str = self._names.get(event.step_id) or event.step_id
        if event.message:
            name = f"{name} — {event.message}"
        elif event.progress is not None:
            name = f"{name} — {event.progress:.0%}"
        self._status.running(name)

    def _end_stream(self, step_id: str) -> None:
        chunks = self._streamed.pop(step_id, None)
        if chunks is not None:
            write(sys.stdout, "\n")
            self._last_streamed_text = "".join(chunks)

    def _name(self, event: Any) -> str:
        return self._names.get(event.step_id) or event.name or event.step_id
