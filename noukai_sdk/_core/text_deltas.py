"""Which step-protocol events carry text, and the text each one adds (shared by the text and object streams).

A ``step_output`` whose ``outputData`` is a string, or an object with a string ``delta``, is a
delta. A step that completes with a string output and sent no delta contributes that output as
one delta, so a flow whose steps do not stream still reads as text. ``step`` keeps the deltas of
one step only.
"""

from __future__ import annotations

from typing import Any, Final

NO_DELTA: Final[Any] = object()
"""What :meth:`TextDeltas.completed_delta` returns for a step whose output adds no text."""


class TextDeltas:
    """Turns events into text deltas, keeps them, and remembers which steps streamed so that no
    text is counted twice."""

    __slots__ = (
        "_keep",
        "_last_streamed",
        "_output_event",
        "_step",
        "_streamed",
        "parts",
        "step_id",
    )

    def __init__(self, step: str | None = None) -> None:
        from noukai_sdk._core.events import StepOutput

        self._output_event = StepOutput
        self._step = step
        self._streamed: set[str] = set()
        self._last_streamed: str | None = None
        self.parts: list[str] = []
        """Every delta so far, in order."""
        self._keep = self.parts.append
        self.step_id: str | None = None
        """The step the last delta came from."""

    def delta(self, event: Any) -> str:
        """The text ``event`` adds (``""`` when it adds none).

        Nearly every event of a streaming run is a ``step_output`` delta, so that case is tested
        first by exact type, reads each field of the event once (a pydantic model's attribute
        reads are not cheap) and does its bookkeeping only when the deltas switch steps.
        """
        if type(event) is not self._output_event:
            return self.other_delta(event)
        data: Any = event.output_data
        if type(data) is dict:
            fields: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
            data = fields.get("delta")
        if type(data) is not str or not data:
            return ""
        step_id: str = event.step_id
        if step_id != self._last_streamed:  # the first delta of a run of deltas from one step
            if self._step is not None and step_id != self._step:
                return ""
            self._streamed.add(step_id)
            self._last_streamed = self.step_id = step_id
        self._keep(data)
        return data

    def other_delta(self, event: Any) -> str:
        """The text an event other than ``step_output`` adds: a completed step's string output
        when the step sent no delta (``""`` otherwise)."""
        if event.type != "step_completed":
            return ""
        piece = self.completed_delta(event)
        return "" if piece is NO_DELTA else piece

    def completed_delta(self, event: Any) -> Any:
        """The string output (perhaps empty) of a completed step that sent no delta, or
        :data:`NO_DELTA`."""
        step_id: str = event.step_id
        if self._step is not None and step_id != self._step:
            return NO_DELTA
        output = event.output
        if not isinstance(output, str) or step_id in self._streamed:
            return NO_DELTA
        self.step_id, self._last_streamed = step_id, None
        self._keep(output)
        return output

    def whole_output(self, event: Any) -> tuple[bool, Any]:
        """``(True, output)`` for a completed step that sent no delta and whose output is not text."""
        step_id: str = event.step_id
        if (self._step is not None and step_id != self._step) or step_id in self._streamed:
            return False, None
        output = event.output
        if isinstance(output, str):
            return False, None
        self.step_id, self._last_streamed = step_id, None
        return True, output
