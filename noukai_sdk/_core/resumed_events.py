"""Which events of a resumed ``/step`` stream were already delivered, so none is delivered twice.

A stream resumed at its cursor runs the step that was in flight again on the server, which sends
that step's events (``step_started``, ``step_input``, deltas...) from the start. The first ones
of the rerun take the places of events the consumer already has, and are skipped; the rest are
new. A rerun that differs from what was delivered (a model answering differently the second
time) is reported with a warning, since the text already shown cannot be taken back.
"""

from __future__ import annotations

import warnings
from collections import deque
from typing import Any


class ResumedEvents:
    """Remembers the events of the step in flight and recognises their repeats after a resume."""

    __slots__ = ("_in_flight", "_pending", "_skip_run_started", "_warned")

    def __init__(self) -> None:
        self._in_flight: list[Any] = []
        self._pending: deque[Any] = deque()
        self._skip_run_started = False
        self._warned = False

    def delivered(self, event: Any) -> None:
        """``event`` (of the step in flight) went to the consumer."""
        self._in_flight.append(event)

    def step_boundary(self) -> None:
        """A step completed or the run paused: nothing of an earlier step can repeat any more."""
        self._in_flight.clear()
        self._pending.clear()

    def resuming(self) -> None:
        """The stream is being resumed: expect the in-flight step's events again."""
        self._pending = deque(self._in_flight)
        self._skip_run_started = True

    def is_repeat(self, event: Any) -> bool:
        """Whether ``event`` repeats one already delivered (and is to be skipped)."""
        if event.type == "run_started":
            repeat, self._skip_run_started = self._skip_run_started, False
            return repeat
        pending = self._pending
        if not pending:
            return False
        first = pending[0]
        if type(first) is type(event) and first.step_id == event.step_id:
            pending.popleft()
            if first != event and not self._warned:
                self._warned = True
                warnings.warn(
                    f"Step {event.step_id!r} ran again after its stream was resumed and sent "
                    "different output the second time; the events already delivered were not "
                    "repeated, so the text received so far may differ from the step's final "
                    "output.",
                    UserWarning,
                    stacklevel=2,
                )
            return True
        pending.clear()  # the rerun went another way: everything from here on is new
        return False
