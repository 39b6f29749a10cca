"""The object a ``stream_object()`` run is building: snapshots from text deltas or a whole output.

Each step that streams text starts its own JSON document (the flow's result is its last step's
output, so the last document is the one validated); ``step=`` keeps one step's document only.
A step that completes with a JSON value (not text) and sent no delta gives that value whole: it
is the one snapshot of its document.
"""

from __future__ import annotations

from typing import Any, Final

from noukai_sdk._core.partial_json import PartialDocument, unfenced
from noukai_sdk._core.text_deltas import TextDeltas

NO_SNAPSHOT: Final[Any] = object()
"""Returned by :meth:`ObjectSnapshots.feed` when an event gives no new snapshot."""


class ObjectSnapshots:
    """Feeds events in, gets new snapshots out; knows the document to validate at the end."""

    __slots__ = ("_deltas", "_document", "_document_step", "_whole", "_whole_value", "text_parts")

    def __init__(self, step: str | None = None) -> None:
        self._deltas = TextDeltas(step)
        self._document: PartialDocument | None = None
        self._document_step: str | None = None
        self._whole = False
        self._whole_value: Any = None
        self.text_parts: list[str] = []
        """Every delta, in order (the ``text`` of the stream)."""

    def feed(self, event: Any) -> Any:
        """The new snapshot ``event`` gives, or :data:`NO_SNAPSHOT`."""
        kind = event.type
        piece = self._deltas.delta(event, kind)
        if piece is not None:
            self.text_parts.append(piece)
            document = self._document
            if document is None or self._deltas.step_id != self._document_step:
                document = self._document = PartialDocument()
                self._document_step = self._deltas.step_id
                self._whole = False
            due = document.append(piece)
            if kind == "step_completed":  # a whole text output: no more text follows
                return document.snapshot if document.refresh(final=True) else NO_SNAPSHOT
            if due and document.refresh():
                return document.snapshot
            return NO_SNAPSHOT
        if kind == "step_completed":
            found, value = self._deltas.whole_output(event)
            if found:
                self._document = None
                self._document_step = event.step_id
                self._whole, self._whole_value = True, value
                return value
            if self._document is not None and event.step_id == self._document_step:
                return self._finish()
        elif kind == "flow_completed" and self._document is not None:
            return self._finish()
        return NO_SNAPSHOT

    def _finish(self) -> Any:
        document = self._document
        assert document is not None
        return document.snapshot if document.refresh(final=True) else NO_SNAPSHOT

    def final_source(self) -> tuple[bool, Any]:
        """What to validate: ``(True, json_text)`` for streamed text, ``(False, value)`` for a
        whole JSON value; ``(False, NO_SNAPSHOT)`` when the run produced no output at all."""
        if self._whole:
            return False, self._whole_value
        if self._document is not None:
            return True, unfenced(self._document.text, final=True)
        return False, NO_SNAPSHOT
