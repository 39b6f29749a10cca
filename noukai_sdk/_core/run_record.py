"""What a stream learned about its run: ids, step count, usage and result, read off its events.

The text and object streams keep one, so that after the loop they can answer ``usage``,
``execution_id`` and ``final_result()`` (the ``ExecuteResult`` ``execute()`` would have returned)
without another request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from noukai_sdk._core.usage import Usage

if TYPE_CHECKING:
    from noukai_sdk._core.results import ExecuteResult


class RunRecord:
    """Fed every event of one run, in order."""

    __slots__ = (
        "_completed_steps",
        "_step_ids",
        "completed",
        "execution_id",
        "flow_id",
        "result",
        "step_count",
    )

    def __init__(self) -> None:
        self.execution_id: str | None = None
        self.flow_id: str | None = None
        self.step_count: int | None = None
        self.result: Any = None
        self.completed = False
        """Whether ``flow_completed`` arrived (the run finished, and ``result`` is its output)."""
        self._completed_steps: list[Any] = []
        self._step_ids: set[str] = set()

    def observe(self, event: Any) -> None:
        kind = event.type
        if kind == "step_completed":
            self._completed_steps.append(event)
            self._step_ids.add(event.step_id)
        elif kind == "run_started":
            self.execution_id = event.execution_id or self.execution_id
            self.flow_id = event.flow_id or self.flow_id
            if event.step_count is not None:
                self.step_count = event.step_count
        elif kind == "flow_completed":
            self.execution_id = event.execution_id or self.execution_id
            self.result = event.result
            self.completed = True
        elif kind == "tool_calls_required":
            self.execution_id = event.execution_id or self.execution_id

    @property
    def usage(self) -> Usage:
        """Tokens and cost summed over the steps completed so far."""
        return Usage.sum_steps(self._completed_steps)

    def execute_result(self, *, session_id: str | None) -> ExecuteResult:
        """The finished run as an ``ExecuteResult``; raises when the run did not finish."""
        from noukai_sdk._core.results import ExecuteResult

        if not self.completed:
            raise RuntimeError(
                "The stream ended before the run finished (it was closed early, or failed), "
                "so there is no final result."
            )
        result = ExecuteResult(
            status="completed",
            result=self.result,
            flow_id=self.flow_id or "",
            block_count=self.step_count if self.step_count is not None else len(self._step_ids),
            execution_id=self.execution_id,
        )
        result._session_id = session_id
        return result
