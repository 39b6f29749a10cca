"""The protocols behind ``stream_text()`` and ``stream_object()``: the step protocol, re-emitted.

Both wrap the events protocol of one run (live or replayed) and turn the events it emits into
text deltas or object snapshots; every other effect passes through untouched, so the sync and
async drivers run them like any protocol. The state they fill (:class:`TextRun`,
:class:`ObjectRun`) is what the public stream objects read after the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

from noukai_sdk._core.effects import Emit, Protocol
from noukai_sdk._core.object_snapshots import NO_SNAPSHOT, ObjectSnapshots
from noukai_sdk._core.run_record import RunRecord
from noukai_sdk._core.text_deltas import TextDeltas

T = TypeVar("T")

_SKIP: Final[Any] = NO_SNAPSHOT


class TextRun:
    """What a text stream knows: the run record and the deltas so far."""

    __slots__ = ("deltas", "parts", "record")

    def __init__(self, step: str | None) -> None:
        self.record = RunRecord()
        self.deltas = TextDeltas(step)
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        parts = self.parts
        if len(parts) > 1:
            self.parts = parts = ["".join(parts)]
        return parts[0] if parts else ""

    def convert(self, event: Any) -> Any:
        self.record.observe(event)
        if event.type == "step_error":
            raise _step_failure(event, self.record)
        piece = self.deltas.delta(event)
        if piece:
            self.parts.append(piece)
            return piece
        return _SKIP


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
        self.record.observe(event)
        if event.type == "step_error":
            raise _step_failure(event, self.record)
        return self.snapshots.feed(event)


def converted_protocol(
    events: Protocol[None], convert: Callable[[Any], Any], record: RunRecord
) -> Protocol[None]:
    """``events`` with each emitted event replaced by ``convert(event)`` (dropped when skipped)."""
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                effect = events.send(value) if error is None else events.throw(error)
            except StopIteration:
                return
            value = error = None
            if isinstance(effect, Emit):
                out = convert(effect.value)
                if out is not _SKIP:
                    yield Emit(out)
                continue
            try:
                value = yield effect
            except Exception as exc:  # an I/O failure: the wrapped protocol handles it
                error = exc
    finally:
        record.ended = True
        events.close()


def _step_failure(event: Any, record: RunRecord) -> Exception:
    """A replayed ``step_error`` (a live one raises in the step protocol already)."""
    from noukai_sdk._core.step_protocol import step_failure

    return step_failure(event, execution_id=record.execution_id, request_id=None)
