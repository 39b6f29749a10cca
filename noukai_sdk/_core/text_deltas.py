"""Which step-protocol events carry text, and the text each one adds (shared by the text and object streams).

A ``step_output`` whose ``outputData`` is a string, or an object with a string ``delta``, is a
delta. A step that completes with a string output and sent no delta contributes that output as
one delta, so a flow whose steps do not stream still reads as text. ``step`` keeps the deltas of
one step only.
"""

from __future__ import annotations

from typing import Any

_DELTA_KEY = "delta"


class TextDeltas:
    """Turns events into text deltas; remembers which steps streamed so nothing is counted twice."""

    __slots__ = ("_last_streamed", "_step", "_streamed", "step_id")

    def __init__(self, step: str | None = None) -> None:
        self._step = step
        self._streamed: set[str] = set()
        self._last_streamed: str | None = None
        self.step_id: str | None = None
        """The step the last delta came from."""

    def delta(self, event: Any, kind: str) -> str | None:
        """The text ``event`` (of type ``kind``) adds, or ``None`` when it adds none."""
        if kind == "step_output":
            step_id: str = event.step_id
            if self._step is not None and step_id != self._step:
                return None
            data: Any = event.output_data
            if type(data) is not str:
                if type(data) is not dict:
                    return None
                fields: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
                data = fields.get(_DELTA_KEY)
                if type(data) is not str:
                    return None
            if step_id != self._last_streamed:  # once per run of deltas from one step
                self._streamed.add(step_id)
                self._last_streamed = self.step_id = step_id
            return data
        if kind == "step_completed":
            step_id = event.step_id
            if self._step is not None and step_id != self._step:
                return None
            output = event.output
            if isinstance(output, str) and step_id not in self._streamed:
                self.step_id, self._last_streamed = step_id, None
                return output
        return None

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
