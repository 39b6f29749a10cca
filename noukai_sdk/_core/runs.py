"""The run-trace protocols: a run's trace and one step's trace (latest, attempt N or all).

:func:`usage_protocol` is the one extra trace request behind ``execute(..., usage=True)``.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from noukai_sdk._core.effects import Steps
from noukai_sdk._core.errors import NoukaiError
from noukai_sdk._core.http_types import HttpRequest, Timeout
from noukai_sdk._core.paths import FlowAddress
from noukai_sdk._core.requesting import RequestContext, parse_model, send_with_retries
from noukai_sdk._core.results import Trace
from noukai_sdk._core.tool_calls import caller_stacklevel
from noukai_sdk_generated.models import StepAttempts, StepTrace

if TYPE_CHECKING:
    from noukai_sdk._core.usage import Usage


def trace_protocol(request: HttpRequest, ctx: RequestContext) -> Steps[Trace]:
    response = yield from send_with_retries(request, ctx)
    return parse_model(Trace, response, what="run trace")


def usage_protocol(
    address: FlowAddress, execution_id: str | None, ctx: RequestContext, *, timeout: Timeout
) -> Steps[Usage | None]:
    """A completed run's usage from its trace (one GET).

    The run has already finished (and been paid for), so a trace that cannot be fetched does not
    cost the caller the result: the usage is ``None`` and a ``UserWarning`` says why.
    """
    if not execution_id:
        _warn_no_usage("the server reported no execution id for the run")
        return None
    request = address.run_trace_request(execution_id, timeout=timeout)
    try:
        trace = yield from trace_protocol(request, ctx)
    except NoukaiError as exc:
        _warn_no_usage(f"the trace of execution {execution_id} could not be fetched: {exc}")
        return None
    return trace.usage


def _warn_no_usage(reason: str) -> None:
    warnings.warn(
        f"usage=True: result.usage is None because {reason}",
        UserWarning,
        stacklevel=caller_stacklevel(),
    )


def step_trace_protocol(
    request: HttpRequest, ctx: RequestContext, *, all_attempts: bool
) -> Steps[StepTrace | StepAttempts]:
    response = yield from send_with_retries(request, ctx)
    if all_attempts:
        return parse_model(StepAttempts, response, what="step attempts")
    return parse_model(StepTrace, response, what="step trace")
