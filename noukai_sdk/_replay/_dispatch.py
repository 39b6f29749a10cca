"""Serving ``execute()``, ``steps()``/``events()`` and ``execute_async()`` from a replay scope.

These are the seams the flow and step-protocol code call when ``active_scope().mode ==
"replay"``. They are protocols (see :mod:`noukai_sdk._core.effects`) because a per-call
``session_id=`` naming another session makes them fetch it (once per client, then cached; matched
positionally like the scope's own session). No flow endpoint is ever called, no tool
handler runs, and a failed recording replays as a failure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from noukai_sdk._core.effects import Emit, Steps, YieldToLoop
from noukai_sdk._core.scope import ReplayCall, ReplayedJob, Scope
from noukai_sdk._replay._matching import RecordedExecution, ReplayState, SessionMatcher, Trigger
from noukai_sdk._replay._reconstruction import (
    ReplayPlan,
    build,
    failure_error,
    plan_replay,
    replayed_events,
    replayed_result,
    replayed_steps,
)

if TYPE_CHECKING:
    from noukai_sdk._core.results import ExecuteResult, JobStatus

T = TypeVar("T")


def replay_execute(scope: Scope, call: ReplayCall) -> Steps[ExecuteResult]:
    """``execute()`` in replay: the matched recording's result, or its recorded failure raised."""
    matcher = _state(scope).matcher
    matcher.call_started(call.slug, "execute")
    try:
        yield from _let_concurrent_calls_start(call)
        plan, session_id = yield from _served(scope, call, "execute", _plan)
    finally:
        matcher.call_finished(call.slug, "execute")
    return replayed_result(plan, session_id=session_id)


def replay_events(scope: Scope, call: ReplayCall, *, only_steps: bool) -> Steps[None]:
    """``events()``/``steps()`` in replay: emit the reconstructed events of the matched recording.

    ``events()`` ends with the ``StepFailed`` of a failed recording; ``steps()`` (``only_steps``)
    yields only ``StepCompleted`` and raises ``FlowExecutionError`` there, like a live run.
    Matching happens when the first event is pulled.
    """
    state = _state(scope)
    state.matcher.call_started(call.slug, "step")
    try:
        plan, _ = yield from _served(scope, call, "step", _plan)
        for event in replayed_steps(plan) if only_steps else replayed_events(plan):
            yield Emit(event)
        if only_steps and plan.failure is not None:
            raise failure_error(plan, plan.failure)
    finally:
        state.matcher.call_finished(call.slug, "step")


def replay_job(scope: Scope, call: ReplayCall) -> Steps[ReplayedJob]:
    """``execute_async()`` in replay: a job whose polls and ``wait()`` serve the recording."""
    plan, session_id = yield from _served(scope, call, "job", _plan)
    return ReplayedJob(
        execution_id=plan.execution_id,
        flow_id=plan.flow_id,
        block_count=plan.step_count,
        session_id=session_id,
        final_status=recorded_job_status(plan),
    )


def _let_concurrent_calls_start(call: ReplayCall) -> Steps[None]:
    """On an asyncio client, give the event loop one turn while this call is marked in flight.

    Replay does no I/O, so without this turn ``asyncio.gather(flow.execute(), flow.execute())``
    would run the calls one after the other and the concurrency warning could never fire for
    calls the user code did start concurrently (whose recorded order is not defined).
    """
    yield YieldToLoop()


def recorded_job_status(plan: ReplayPlan) -> JobStatus:
    """The terminal ``JobStatus`` of a recorded job: completed with its result, or failed."""
    from noukai_sdk._core.results import JobStatus

    if plan.failure is not None:
        message = plan.failure.message
        return build(JobStatus, execution_id=plan.execution_id, status="failed", error=message)
    return build(JobStatus, execution_id=plan.execution_id, status="completed", result=plan.result)


def _plan(execution: RecordedExecution) -> ReplayPlan:
    return plan_replay(execution)  # type: ignore[arg-type]


def _served(
    scope: Scope,
    call: ReplayCall,
    trigger: Trigger,
    build: Callable[[RecordedExecution], T],
) -> Steps[tuple[T, str]]:
    """Match the call in the scope's session or in the explicitly named one; build from it."""
    state = _state(scope)
    explicit = call.session_id is not None and call.session_id != scope.session_id
    if not explicit:
        execution = state.matcher.match(call.slug, trigger, flow_id=call.flow_id)
        return build(execution), scope.session_id or ""
    session_id = call.session_id or ""
    matcher = yield from _explicit_matcher(state, session_id, call)
    execution = matcher.match(call.slug, trigger, flow_id=call.flow_id)
    state.matcher.consume(execution.execution_id)
    return build(execution), session_id


def _explicit_matcher(
    state: ReplayState, session_id: str, call: ReplayCall
) -> Steps[SessionMatcher]:
    from noukai_sdk._replay._sessions import (
        cache_for,
        cached_fetch,
        validate_session_id,
    )

    validate_session_id(session_id)
    with state.lock:
        matcher = state.explicit.get(session_id)
    if matcher is not None:
        return matcher
    if call.link is None:
        raise TypeError(
            "A replayed call naming another session needs the client's request context."
        )
    cache = cache_for(call.link)
    session = yield from cached_fetch(session_id, call.link.context, cache)
    with state.lock:
        matcher = state.explicit.setdefault(
            session_id, SessionMatcher(session.session_id, session.executions, explicit=True)
        )
    return matcher


def _state(scope: Scope) -> ReplayState:
    state = scope.replay_state
    if not isinstance(state, ReplayState):
        raise TypeError("replay dispatch needs an active replay scope")
    return state
