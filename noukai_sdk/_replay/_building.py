"""Building the public result and event objects from a :class:`ReplayPlan`.

Events come from :mod:`noukai_sdk._core.events` and results from :mod:`noukai_sdk._core.results`, so a
replayed run is indistinguishable in type from a live one. Step events carry ``step_index``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from noukai_sdk._core.errors import FlowExecutionError
from noukai_sdk._replay._reconstruction import PlannedFailure, ReplayPlan

M = TypeVar("M", bound=BaseModel)

if TYPE_CHECKING:
    from noukai_sdk._core.events import StreamEvent
    from noukai_sdk._core.results import ExecuteResult


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
