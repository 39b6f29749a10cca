"""Queue-backed execution: job submission, and ``Job``/``AsyncJob`` handles to poll and wait on.

Polling and waiting are sans-IO protocols shared by both handles. ``wait()`` honours its deadline:
each poll's request timeout is bounded by the time left, and the sleep between polls never runs
past the deadline (DESIGN W35).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from noukai_sdk._config import validate_timeout
from noukai_sdk._constants import (
    JOB_NOT_FOUND_GRACE,
    JOB_POLL_INTERVAL,
    JOB_TERMINAL_STATUSES,
    JOB_WAIT_TIMEOUT,
)
from noukai_sdk._effects import Protocol, Sleep, run_async, run_sync
from noukai_sdk._errors import APITimeoutError, FlowNotFoundError
from noukai_sdk._paths import FlowAddress
from noukai_sdk._requesting import Deadline, RequestContext, parse_model, send_with_retries
from noukai_sdk._results import JobAccepted
from noukai_sdk_generated.models import ExecuteRequest, JobStatus

if TYPE_CHECKING:
    import httpx
    import httpx2
    from typing_extensions import Self

    from noukai_sdk._client import AsyncNoukai, Noukai
    from noukai_sdk._replay import ReplayedJob

Timeout = Union[float, "httpx.Timeout", "httpx2.Timeout", None]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class JobSubmission:
    """A validated ``execute_async()`` call (tools are never sent on ``/jobs``)."""

    address: FlowAddress
    version: int | None
    message: str | None
    parameters: dict[str, Any]
    block_overrides: dict[str, Any] | None
    trace: bool
    timeout: Timeout
    session_id: str | None

    def body(self) -> dict[str, Any]:
        return ExecuteRequest.model_validate(
            {
                "message": self.message,
                "parameters": self.parameters,
                "block_overrides": self.block_overrides,
                "trace": self.trace,
            }
        ).to_wire()


def submit_protocol(submission: JobSubmission, ctx: RequestContext) -> Protocol[JobAccepted]:
    """POST ``…/jobs`` and parse the :class:`JobAccepted`."""
    request = submission.address.operation_request(
        "jobs",
        version=submission.version,
        body=submission.body(),
        session_id=submission.session_id,
        timeout=submission.timeout,
    )
    response = yield from send_with_retries(request, ctx)
    accepted = parse_model(JobAccepted, response, what="job submission")
    accepted._session_id = submission.session_id
    return accepted


def _monotonic() -> float:
    return time.monotonic()


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
    clock: Clock = _monotonic,
    deadline: Deadline | None = None,
) -> Protocol[JobStatus]:
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
    clock: Clock = _monotonic,
) -> Protocol[JobStatus]:
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


def _check_wait_args(timeout: object, poll_interval: object) -> tuple[float, float]:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    if isinstance(poll_interval, bool) or not isinstance(poll_interval, (int, float)):
        raise ValueError(f"poll_interval must be a number of seconds, got {poll_interval!r}")
    if not poll_interval >= 0:
        raise ValueError(f"poll_interval must be >= 0 seconds, got {poll_interval!r}")
    return float(timeout), float(poll_interval)


class _JobCore:
    """State shared by ``Job`` and ``AsyncJob``: the submission's answer and the poll target."""

    __slots__ = ("_accepted", "_client", "_ref", "_replayed")

    def __init__(
        self,
        client: Noukai | AsyncNoukai,
        address: FlowAddress,
        accepted: JobAccepted,
        *,
        replayed_status: JobStatus | None = None,
    ) -> None:
        self._client = client
        self._accepted = accepted
        self._ref = JobRef(address, accepted.execution_id, time.monotonic())
        self._replayed = replayed_status

    @classmethod
    def replayed(cls, client: Any, address: FlowAddress, recording: ReplayedJob) -> Self:
        """A handle for a job served from a replayed recording: polls return its final status."""
        accepted = JobAccepted.model_validate(
            {
                "execution_id": recording.execution_id,
                "status": recording.final_status.status,
                "flow_id": recording.flow_id,
                "block_count": recording.block_count,
            }
        )
        accepted._session_id = recording.session_id
        return cls(client, address, accepted, replayed_status=recording.final_status)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(execution_id={self.execution_id!r}, "
            f"flow_id={self.flow_id!r}, status={self.status!r})"
        )

    @property
    def execution_id(self) -> str:
        return self._accepted.execution_id

    @property
    def flow_id(self) -> str:
        return self._accepted.flow_id

    @property
    def status(self) -> str:
        """The status the server reported at submission (e.g. ``started``); poll for the current one."""
        return self._accepted.status

    @property
    def session_id(self) -> str | None:
        """The session id the job was submitted with, if any."""
        return self._accepted.session_id

    @property
    def accepted(self) -> JobAccepted:
        return self._accepted

    def _poll_protocol(self, timeout: Timeout) -> Protocol[JobStatus]:
        if self._replayed is not None:
            return _answered(self._replayed)
        checked = None if timeout is None else validate_timeout(timeout)
        return poll_protocol(self._ref, self._client._context, timeout=checked)

    def _wait_protocol(self, timeout: float, poll_interval: float) -> Protocol[JobStatus]:
        timeout, poll_interval = _check_wait_args(timeout, poll_interval)
        if self._replayed is not None:
            return _answered(self._replayed)
        return wait_protocol(
            self._ref, self._client._context, timeout=timeout, poll_interval=poll_interval
        )


def _answered(status: JobStatus) -> Protocol[JobStatus]:
    """A protocol that needs no I/O: a replayed job already knows its final status."""
    return status
    yield  # makes this a generator


class Job(_JobCore):
    """A queued execution on the blocking client."""

    __slots__ = ()

    _client: Noukai

    def poll(self, timeout: Timeout = None) -> JobStatus:
        """Fetch the job's current status once."""
        return run_sync(self._poll_protocol(timeout), self._client._transport)

    def wait(
        self, timeout: float = JOB_WAIT_TIMEOUT, poll_interval: float = JOB_POLL_INTERVAL
    ) -> JobStatus:
        """Poll until the job is completed, failed or cancelled; ``APITimeoutError`` after ``timeout`` s.

        A failed job is returned (check ``status`` and ``error``), not raised.
        """
        return run_sync(self._wait_protocol(timeout, poll_interval), self._client._transport)


class AsyncJob(_JobCore):
    """A queued execution on the asyncio client."""

    __slots__ = ()

    _client: AsyncNoukai

    async def poll(self, timeout: Timeout = None) -> JobStatus:
        """Fetch the job's current status once."""
        return await run_async(self._poll_protocol(timeout), self._client._transport)

    async def wait(
        self, timeout: float = JOB_WAIT_TIMEOUT, poll_interval: float = JOB_POLL_INTERVAL
    ) -> JobStatus:
        """Poll until the job is completed, failed or cancelled; see :meth:`Job.wait`."""
        return await run_async(self._wait_protocol(timeout, poll_interval), self._client._transport)
