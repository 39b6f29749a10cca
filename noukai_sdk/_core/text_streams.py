"""What ``stream_text()`` and ``stream_object()`` make of the events of one run.

Both streams iterate the events protocol of the run (live or replayed) and hand each event to
the run's ``convert``, which returns the text delta or object snapshot the event gives (or
:data:`SKIP`; a snapshot may be any JSON value, falsy ones included) and keeps what the stream
answers after the loop. A text run's ``delta`` returns ``""`` for an event that gives nothing,
so the blocking text stream, whose cost per event is budgeted, is ``filter(None, map(delta,
events))``: no generator of its own between the driver and the consumer.
"""

from __future__ import annotations

from typing import Any, Final

from noukai_sdk._core.object_snapshots import NO_SNAPSHOT, ObjectSnapshots
from noukai_sdk._core.run_record import RunRecord
from noukai_sdk._core.text_deltas import TextDeltas

SKIP: Final[Any] = NO_SNAPSHOT
"""What an object run's ``convert`` returns for an event that gives no new snapshot."""


class TextRun(TextDeltas):
    """What a text stream knows: the run record and the deltas so far."""

    __slots__ = ("record",)

    def __init__(self, step: str | None) -> None:
        super().__init__(step)
        self.record = RunRecord()

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def other_delta(self, event: Any) -> str:
        record = self.record
        record.observe(event)  # only the events other than step_output tell the record anything
        if event.type == "step_error":
            raise _step_failure(event, record)
        return super().other_delta(event)

    def convert(self, event: Any) -> Any:
        """The delta ``event`` adds, or :data:`SKIP` (the form the generic stream loop takes)."""
        return self.delta(event) or SKIP


class ObjectRun:
    """What an object stream knows: the run record and the document being built."""

    __slots__ = ("record", "snapshots")

    def __init__(self, step: str | None) -> None:
        self.record = RunRecord()
        self.snapshots = ObjectSnapshots(step)

    @property
    def text(self) -> str:
        return "".join(self.snapshots.deltas.parts)

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
