"""The object a ``stream_object()`` run is building: snapshots from text deltas or a whole output.

Each step that streams text starts its own JSON document (the flow's result is its last step's
output, so the last document is the one validated); ``step=`` keeps one step's document only.
A step that completes with a JSON value (not text) and sent no delta gives that value whole: it
is the one snapshot of its document.
"""

from __future__ import annotations

from typing import Any, Final

from noukai_sdk._core.partial_json import PartialDocument, unfenced
from noukai_sdk._core.text_deltas import NO_DELTA, TextDeltas

NO_SNAPSHOT: Final[Any] = NO_DELTA
"""Returned by :class:`ObjectSnapshots` when an event gives no new snapshot."""


class ObjectSnapshots:
    """Feeds events in, gets new snapshots out; knows the document to validate at the end."""

    __slots__ = ("_document", "_document_step", "_whole", "_whole_value", "deltas")

    def __init__(self, step: str | None = None) -> None:
        self.deltas = TextDeltas(step)
        """The text deltas (``deltas.parts`` is the ``text`` of the stream)."""
        self._document: PartialDocument | None = None
        self._document_step: str | None = None
        self._whole = False
        self._whole_value: Any = None

    def feed(self, event: Any) -> Any:
        """The new snapshot ``event`` gives, or :data:`NO_SNAPSHOT`."""
        kind = event.type
        if kind == "step_output":
            piece = self.deltas.delta(event)
            if not piece:
                return NO_SNAPSHOT
            document = self._document_for_delta()
            due = document.append(piece)
            return document.snapshot if due and document.refresh() else NO_SNAPSHOT
        if kind == "step_completed":
            piece = self.deltas.completed_delta(event)
            if piece is not NO_DELTA:  # a whole text output: no more text follows
                document = self._document_for_delta()
                document.append(piece)
                return document.snapshot if document.refresh(final=True) else NO_SNAPSHOT
            found, value = self.deltas.whole_output(event)
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

    def _document_for_delta(self) -> PartialDocument:
        """The document the delta just taken belongs to: a delta from another step starts one."""
        document = self._document
        if document is None or self.deltas.step_id != self._document_step:
            document = self._document = PartialDocument()
            self._document_step = self.deltas.step_id
            self._whole = False
        return document

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
