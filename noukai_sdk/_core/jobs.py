"""The job protocols: submit (``POST …/jobs``), poll once, and wait until a terminal status.

``wait`` honours its deadline: each poll's request timeout is bounded by the time left, and the
sleep between polls never runs past the deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from noukai_sdk._core.clock import monotonic
from noukai_sdk._core.constants import JOB_NOT_FOUND_GRACE, JOB_TERMINAL_STATUSES
from noukai_sdk._core.effects import Sleep, Steps
from noukai_sdk._core.errors import APITimeoutError, FlowNotFoundError
from noukai_sdk._core.execute import ExecuteCall
from noukai_sdk._core.http_types import Timeout
from noukai_sdk._core.paths import FlowAddress
from noukai_sdk._core.requesting import Deadline, RequestContext, parse_model, send_with_retries
from noukai_sdk._core.results import JobAccepted, JobStatus, attach_parsed

Clock = Callable[[], float]


def submit_protocol(
    call: ExecuteCall, address: FlowAddress, ctx: RequestContext
) -> Steps[JobAccepted]:
    """POST ``…/jobs`` with the call's job body and parse the :class:`JobAccepted`."""
    request = address.operation_request(
        "jobs",
        version=call.version,
        body=call.job_body(),
        session_id=call.session_id,
        timeout=call.timeout,
    )
    response = yield from send_with_retries(request, ctx)
    accepted = parse_model(JobAccepted, response, what="job submission")
    accepted._session_id = call.session_id
    return accepted


@dataclass(frozen=True, slots=True)
class JobRef:
    """What polling needs to know about a submitted job."""

    address: FlowAddress
    execution_id: str
    created_at: float


def poll_protocol(
    job: JobRef,
    ctx: RequestContext,
    *,
    timeout: Timeout,
    clock: Clock = monotonic,
    deadline: Deadline | None = None,
) -> Steps[JobStatus]:
    """One ``GET …/jobs/{id}``; a 404 within 5 s of submission reads as ``pending``."""
    request = job.address.job_status_request(job.execution_id, timeout=timeout)
    try:
        response = yield from send_with_retries(request, ctx, deadline=deadline)
    except FlowNotFoundError:
        if clock() - job.created_at < JOB_NOT_FOUND_GRACE:
            return JobStatus.model_validate({"execution_id": job.execution_id, "status": "pending"})
        raise
    return parse_model(JobStatus, response, what="job status")


def wait_protocol(
    job: JobRef,
    ctx: RequestContext,
    *,
    timeout: float,
    poll_interval: float,
    clock: Clock = monotonic,
) -> Steps[JobStatus]:
    """Poll until a terminal status (completed, failed, cancelled) or the deadline passes."""
    deadline = Deadline(clock() + timeout, clock)
    while True:
        try:
            status = yield from poll_protocol(
                job, ctx, timeout=None, clock=clock, deadline=deadline
            )
        except APITimeoutError as exc:
            if deadline.remaining() > 0:
                raise
            raise _deadline_error(job, timeout) from exc
        if status.status in JOB_TERMINAL_STATUSES:
            return status
        remaining = deadline.remaining()
        if remaining <= 0:
            raise _deadline_error(job, timeout)
        yield Sleep(min(poll_interval, remaining))


def _deadline_error(job: JobRef, timeout: float) -> APITimeoutError:
    return APITimeoutError(
        f"Job {job.execution_id} did not complete within {timeout:g}s",
        execution_id=job.execution_id,
    )


def check_wait_args(timeout: object, poll_interval: object) -> tuple[float, float]:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    if isinstance(poll_interval, bool) or not isinstance(poll_interval, (int, float)):
        raise ValueError(f"poll_interval must be a number of seconds, got {poll_interval!r}")
    if not poll_interval >= 0:
        raise ValueError(f"poll_interval must be >= 0 seconds, got {poll_interval!r}")
    return float(timeout), float(poll_interval)


def parsed_status(status: Steps[JobStatus], output_type: Any) -> Steps[JobStatus[Any]]:
    """The status ``status`` ends with, its result validated as ``output_type`` once completed.

    The status is copied before ``parsed`` is set: a replayed job answers every poll with the
    same recorded status, which must not keep the type of an earlier call.
    """
    final = yield from status
    if output_type is None:
        return final
    final = final.model_copy()
    attach_parsed(final, output_type)
    return final


def answered(status: JobStatus) -> Steps[JobStatus]:
    """A protocol that needs no I/O: a replayed job already knows its final status."""
    return status
    yield  # makes this a generator
