"""Turning one recorded execution into what a live run would have produced.

:func:`plan_replay` is pure: it reads a ``SessionExecution`` and decides the step sequence, the
final result and the failure, if any. Compared with 0.2.0: retry attempts collapse into the
last attempt of each step (per loop index), failed or cancelled recordings replay as failures even
without ``errorAtStep``, a failure ends the sequence like a live ``step_error`` does, and outputs
drop the ``__rendered_prompt__`` sidecar key. The functions after it (:func:`replayed_result`,
:func:`replayed_events`, :func:`replayed_steps`) turn the plan into the public result and event
objects, so a replayed run is indistinguishable in type from a live one.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from pydantic import BaseModel

from noukai_sdk._core.errors import FlowExecutionError

if TYPE_CHECKING:
    from noukai_sdk._core.events import StreamEvent
    from noukai_sdk._core.results import ExecuteResult

M = TypeVar("M", bound=BaseModel)

RENDERED_PROMPT_KEY = "__rendered_prompt__"
_FAILED_STATUSES = frozenset({"failed", "cancelled"})


class RecordedStep(Protocol):
    """What reconstruction reads from a recorded step (``SessionStep``)."""

    @property
    def step_id(self) -> str: ...
    @property
    def attempt(self) -> int: ...
    @property
    def loop_index(self) -> int | None: ...
    @property
    def output_snapshot(self) -> Any: ...
    @property
    def error_snapshot(self) -> Mapping[str, Any] | None: ...
    @property
    def truncated(self) -> bool: ...


class RecordedRun(Protocol):
    """What reconstruction reads from a recorded execution (``SessionExecution``)."""

    @property
    def execution_id(self) -> str: ...
    @property
    def flow_id(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def error_at_step(self) -> str | None: ...
    @property
    def steps(self) -> Sequence[RecordedStep]: ...


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One completed step to replay, with its 0-based position in the run."""

    step_id: str
    step_index: int
    output: Any


@dataclass(frozen=True, slots=True)
class PlannedFailure:
    """The step where the recording failed and the error to replay there."""

    step_id: str | None
    step_index: int
    error: Mapping[str, Any] | None
    message: str
    code: str | None


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    """Everything needed to rebuild one recorded execution."""

    execution_id: str
    flow_id: str
    step_count: int
    completed: tuple[PlannedStep, ...]
    failure: PlannedFailure | None
    result: Any


def strip_rendered_prompt(value: Any) -> Any:
    """A shallow copy of a dict output without ``__rendered_prompt__``; anything else unchanged."""
    if isinstance(value, dict) and RENDERED_PROMPT_KEY in value:
        mapping: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return {key: item for key, item in mapping.items() if key != RENDERED_PROMPT_KEY}
    return cast(Any, value)


def final_attempts(steps: Sequence[RecordedStep]) -> list[RecordedStep]:
    """The last attempt of each (step, loop index), in order of first appearance."""
    latest: dict[tuple[str, int | None], RecordedStep] = {}
    for step in steps:
        key = (step.step_id, step.loop_index)
        current = latest.get(key)
        if current is None or step.attempt >= current.attempt:
            latest[key] = step
    return list(latest.values())


def plan_replay(execution: RecordedRun) -> ReplayPlan:
    """Decide the replayed step sequence, result and failure of ``execution``."""
    entries = final_attempts(execution.steps)
    failure_index = _failure_index(execution, entries)
    completed: list[PlannedStep] = []
    truncated = False
    for index, entry in enumerate(entries):
        if failure_index is not None and index >= failure_index:
            break
        truncated = truncated or entry.truncated
        completed.append(
            PlannedStep(entry.step_id, index, strip_rendered_prompt(entry.output_snapshot))
        )
    if truncated:
        warnings.warn(
            f"Recorded execution '{execution.execution_id}' has truncated step snapshots; "
            "the replayed outputs are incomplete.",
            UserWarning,
            stacklevel=3,
        )
    failure = _failure(execution, entries, failure_index)
    return ReplayPlan(
        execution_id=execution.execution_id,
        flow_id=execution.flow_id or "",
        step_count=len(entries),
        completed=tuple(completed),
        failure=failure,
        result=completed[-1].output if completed and failure is None else None,
    )


def _failure_index(execution: RecordedRun, entries: Sequence[RecordedStep]) -> int | None:
    failed_run = execution.error_at_step is not None or execution.status in _FAILED_STATUSES
    if not failed_run:
        return None
    if execution.error_at_step is not None:
        for index, entry in enumerate(entries):
            if entry.step_id == execution.error_at_step:
                return index
    for index, entry in enumerate(entries):
        if entry.error_snapshot is not None:
            return index
    return len(entries)


def _failure(
    execution: RecordedRun, entries: Sequence[RecordedStep], index: int | None
) -> PlannedFailure | None:
    if index is None:
        return None
    entry = entries[index] if index < len(entries) else None
    snapshot = entry.error_snapshot if entry is not None else None
    step_id = entry.step_id if entry is not None else execution.error_at_step
    if snapshot is not None:
        code, message = error_code_and_message(snapshot)
        return PlannedFailure(step_id, index, snapshot, message or "Recorded error", code)
    if execution.error_at_step is not None:
        message = (
            f"Recorded execution '{execution.execution_id}' failed at step "
            f"'{execution.error_at_step}' but error_snapshot is unavailable."
        )
    else:
        message = (
            f"Recorded execution '{execution.execution_id}' ended with status '{execution.status}'."
        )
    return PlannedFailure(step_id, index, None, message, None)


def error_code_and_message(snapshot: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(code, message)`` of a recorded error snapshot, read through the ``ErrorDetail`` model."""
    from noukai_sdk_generated.models import ErrorDetail

    fields = ErrorDetail.model_fields
    code = snapshot.get(fields["code"].alias or "code")
    message = snapshot.get(fields["message"].alias or "message")
    return (
        code if isinstance(code, str) and code else None,
        message if isinstance(message, str) and message else None,
    )


def build(model: type[M], **fields: Any) -> M:
    """A model instance from snake_case field names (validated like any other input)."""
    return model.model_validate(fields)


def failure_error(plan: ReplayPlan, failure: PlannedFailure) -> FlowExecutionError:
    """The error a live ``execute()``/``steps()`` raises for the recorded failure."""
    return FlowExecutionError(
        failure.message,
        code=failure.code,
        execution_id=plan.execution_id,
        response_body=dict(failure.error) if failure.error is not None else None,
    )


def replayed_events(plan: ReplayPlan) -> list[StreamEvent]:
    """The event sequence of ``events()``: it ends at the recorded step error, like a live run."""
    from noukai_sdk._core.events import (
        FlowCompleted,
        RunStarted,
        StepCompleted,
        StepFailed,
        StepStarted,
    )

    events: list[StreamEvent] = [
        build(
            RunStarted,
            run_id=plan.execution_id,
            execution_id=plan.execution_id,
            flow_id=plan.flow_id,
            step_count=plan.step_count,
        )
    ]
    for step in plan.completed:
        events.append(build(StepStarted, step_id=step.step_id, step_index=step.step_index))
        events.append(
            build(
                StepCompleted, step_id=step.step_id, step_index=step.step_index, output=step.output
            )
        )
    failure = plan.failure
    if failure is not None:
        step_id = failure.step_id or ""
        if failure.step_id is not None and failure.step_index < plan.step_count:
            events.append(build(StepStarted, step_id=step_id, step_index=failure.step_index))
        events.append(build(StepFailed, step_id=step_id, error=_error_object(failure)))
        return events
    events.append(
        build(
            FlowCompleted,
            run_id=plan.execution_id,
            execution_id=plan.execution_id,
            result=plan.result,
        )
    )
    return events


def replayed_steps(plan: ReplayPlan) -> list[StreamEvent]:
    """What ``steps()`` yields: only the ``StepCompleted`` events (raising happens separately)."""
    from noukai_sdk._core.events import StepCompleted

    return [event for event in replayed_events(plan) if isinstance(event, StepCompleted)]


def replayed_result(plan: ReplayPlan, *, session_id: str) -> ExecuteResult:
    """The ``ExecuteResult`` of a completed recording; a failed one raises FlowExecutionError."""
    from noukai_sdk._core.results import ExecuteResult

    if plan.failure is not None:
        raise failure_error(plan, plan.failure)
    result = build(
        ExecuteResult,
        status="completed",
        result=plan.result,
        execution_id=plan.execution_id,
        flow_id=plan.flow_id,
        block_count=plan.step_count,
    )
    return _with_session_id(result, session_id)


def _with_session_id(result: ExecuteResult, session_id: str) -> ExecuteResult:
    result._session_id = session_id
    return result


def _error_object(failure: PlannedFailure) -> dict[str, Any]:
    if failure.error is not None:
        return dict(failure.error)
    from noukai_sdk_generated.models import ErrorDetail

    alias = ErrorDetail.model_fields["message"].alias or "message"
    return {alias: failure.message}
