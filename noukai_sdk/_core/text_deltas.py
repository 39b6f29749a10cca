"""Which step-protocol events carry text, and the text each one adds (shared by the text and object streams).

A ``step_output`` whose ``outputData`` is a string, or an object with a string ``delta``, is a
delta. A step that completes with a string output and sent no delta contributes that output as
one delta, so a flow whose steps do not stream still reads as text. ``step`` keeps the deltas of
one step only.
"""

from __future__ import annotations

from typing import Any, cast

_DELTA_KEY = "delta"


class TextDeltas:
    """Turns events into text deltas; remembers which steps streamed so nothing is counted twice."""

    __slots__ = ("_step", "_streamed", "step_id")

    def __init__(self, step: str | None = None) -> None:
        self._step = step
        self._streamed: set[str] = set()
        self.step_id: str | None = None
        """The step the last delta came from."""

    def delta(self, event: Any) -> str | None:
        """The text ``event`` adds, or ``None`` when it adds none."""
        kind = event.type
        if kind == "step_output":
            step_id: str = event.step_id
            if self._step is not None and step_id != self._step:
                return None
            data = event.output_data
            if type(data) is not str:
                if not isinstance(data, dict):
                    return None
                data = cast("dict[str, Any]", data).get(_DELTA_KEY)
                if not isinstance(data, str):
                    return None
            self._streamed.add(step_id)
            self.step_id = step_id
            return data
        if kind == "step_completed":
            step_id = event.step_id
            if self._step is not None and step_id != self._step:
                return None
            output = event.output
            if isinstance(output, str) and step_id not in self._streamed:
                self.step_id = step_id
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
        self.step_id = step_id
        return True, output
