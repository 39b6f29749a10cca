"""The run-trace protocols: a run's trace and one step's trace (latest, attempt N or all)."""

from __future__ import annotations

from noukai_sdk._core.effects import Steps
from noukai_sdk._core.http_types import HttpRequest
from noukai_sdk._core.requesting import RequestContext, parse_model, send_with_retries
from noukai_sdk_generated.models import StepAttempts, StepTrace, Trace


def trace_protocol(request: HttpRequest, ctx: RequestContext) -> Steps[Trace]:
    response = yield from send_with_retries(request, ctx)
    return parse_model(Trace, response, what="run trace")


def step_trace_protocol(
    request: HttpRequest, ctx: RequestContext, *, all_attempts: bool
) -> Steps[StepTrace | StepAttempts]:
    response = yield from send_with_retries(request, ctx)
    if all_attempts:
        return parse_model(StepAttempts, response, what="step attempts")
    return parse_model(StepTrace, response, what="step trace")
