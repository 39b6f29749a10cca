"""What ``stream_text()`` and ``stream_object()`` make of the events of one run.

Both streams iterate the events protocol of the run (live or replayed) and hand each event to
``convert``, which returns the text delta or object snapshot it gives (or :data:`SKIP`) and keeps
what the stream answers after the loop. The conversion happens in the stream's ``__next__``
rather than in another protocol layer, so no effect pays for an extra generator hop.
"""

from __future__ import annotations

from typing import Any, Final

from noukai_sdk._core.object_snapshots import NO_SNAPSHOT, ObjectSnapshots
from noukai_sdk._core.run_record import RunRecord
from noukai_sdk._core.text_deltas import TextDeltas

SKIP: Final[Any] = NO_SNAPSHOT
"""What ``convert`` returns for an event that gives the consumer nothing."""


class TextRun:
    """What a text stream knows: the run record and the deltas so far."""

    __slots__ = ("_delta", "_keep", "deltas", "parts", "record")

    def __init__(self, step: str | None) -> None:
        self.record = RunRecord()
        self.deltas = TextDeltas(step)
        self.parts: list[str] = []
        self._delta = self.deltas.delta  # bound once: convert runs for every event
        self._keep = self.parts.append

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def convert(self, event: Any) -> Any:
        """The delta ``event`` adds, or :data:`SKIP`; a replayed ``step_error`` raises."""
        kind = event.type
        if kind != "step_output":  # the record has nothing to learn from an output
            self.record.observe(event)
            if kind == "step_error":
                raise _step_failure(event, self.record)
        piece = self._delta(event, kind)
        if piece:
            self._keep(piece)
            return piece
        return SKIP


class ObjectRun:
    """What an object stream knows: the run record and the document being built."""

    __slots__ = ("record", "snapshots")

    def __init__(self, step: str | None) -> None:
        self.record = RunRecord()
        self.snapshots = ObjectSnapshots(step)

    @property
    def text(self) -> str:
        return "".join(self.snapshots.text_parts)

    def convert(self, event: Any) -> Any:
        """The new snapshot ``event`` gives, or :data:`SKIP`; a replayed ``step_error`` raises."""
        self.record.observe(event)
        if event.type == "step_error":
            raise _step_failure(event, self.record)
        return self.snapshots.feed(event)


def _step_failure(event: Any, record: RunRecord) -> Exception:
    """A replayed ``step_error`` (a live one raises in the step protocol already)."""
    from noukai_sdk._core.step_protocol import step_failure

    return step_failure(event, execution_id=record.execution_id, request_id=None)
