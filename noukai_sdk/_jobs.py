"""Queue-backed execution: ``Job``/``AsyncJob`` handles to poll and wait on a submitted job.

Both handles drive the same protocols from :mod:`noukai_sdk._core.jobs`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, TypeVar, overload

from noukai_sdk._core.clock import monotonic
from noukai_sdk._core.config import check_timeout
from noukai_sdk._core.constants import JOB_POLL_INTERVAL, JOB_WAIT_TIMEOUT
from noukai_sdk._core.effects import Steps
from noukai_sdk._core.http_types import Timeout
from noukai_sdk._core.jobs import (
    JobRef,
    answered,
    check_wait_args,
    parsed_status,
    poll_protocol,
    wait_protocol,
)
from noukai_sdk._core.link import AsyncLink, ClientLink, SyncLink
from noukai_sdk._core.output import check_output_type
from noukai_sdk._core.paths import FlowAddress, validate_segment
from noukai_sdk._core.results import JobAccepted, JobStatus
from noukai_sdk._core.scope import ReplayedJob

if TYPE_CHECKING:
    from typing_extensions import Self

OutT = TypeVar("OutT")


class _JobCore:
    """State shared by ``Job`` and ``AsyncJob``: the submission's answer and the poll target."""

    __slots__ = ("_accepted", "_link", "_ref", "_replayed")

    def __init__(
        self,
        link: ClientLink,
        address: FlowAddress,
        accepted: JobAccepted,
        *,
        replayed_status: JobStatus | None = None,
        submitted_at: float | None = None,
    ) -> None:
        self._link = link
        self._accepted = accepted
        since = monotonic() if submitted_at is None else submitted_at
        self._ref = JobRef(address, accepted.execution_id, since)
        self._replayed = replayed_status

    @classmethod
    def by_id(cls, link: ClientLink, address: FlowAddress, execution_id: str) -> Self:
        """A handle for a job submitted earlier (perhaps by another process), known by its id.

        Nothing of the submission is known: ``status`` is ``"unknown"`` and ``flow_id`` empty
        (poll for the job's state). A 404 is the server's answer at once, not read as "not queued
        yet" as it is just after a submission: an id typed by hand may be a typo.
        """
        accepted = JobAccepted.model_validate(
            {
                "execution_id": validate_segment(execution_id, name="execution_id"),
                "status": "unknown",
                "flow_id": "",
                "block_count": 0,
            }
        )
        return cls(link, address, accepted, submitted_at=-math.inf)

    @classmethod
    def replayed(cls, link: ClientLink, address: FlowAddress, recording: ReplayedJob) -> Self:
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
        return cls(link, address, accepted, replayed_status=recording.final_status)

    @classmethod
    def submitted(
        cls, link: ClientLink, address: FlowAddress, answer: JobAccepted | ReplayedJob
    ) -> Self:
        """The handle for a submission's answer: the server's, or a replayed recording."""
        if isinstance(answer, ReplayedJob):
            return cls.replayed(link, address, answer)
        return cls(link, address, answer)

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

    def _poll_protocol(self, timeout: Timeout, output_type: Any) -> Steps[JobStatus[Any]]:
        check_output_type(output_type)
        if self._replayed is not None:
            return parsed_status(answered(self._replayed), output_type)
        checked = check_timeout(timeout)
        polled = poll_protocol(self._ref, self._link.context, timeout=checked)
        return parsed_status(polled, output_type)

    def _wait_protocol(
        self, timeout: float, poll_interval: float, output_type: Any
    ) -> Steps[JobStatus[Any]]:
        timeout, poll_interval = check_wait_args(timeout, poll_interval)
        check_output_type(output_type)
        if self._replayed is not None:
            return parsed_status(answered(self._replayed), output_type)
        waited = wait_protocol(
            self._ref, self._link.context, timeout=timeout, poll_interval=poll_interval
        )
        return parsed_status(waited, output_type)


class Job(_JobCore):
    """A queued execution on the blocking client."""

    __slots__ = ()

    _link: SyncLink

    @overload
    def poll(self, timeout: Timeout = None, *, output_type: type[OutT]) -> JobStatus[OutT]: ...

    @overload
    def poll(self, timeout: Timeout = None, *, output_type: None = None) -> JobStatus: ...

    @overload
    def poll(self, timeout: Timeout = None, *, output_type: object) -> JobStatus[Any]: ...

    def poll(self, timeout: Timeout = None, *, output_type: Any = None) -> JobStatus[Any]:
        """Fetch the job's current status once; a completed result is validated as ``output_type``."""
        return self._link.run(self._poll_protocol(timeout, output_type))

    @overload
    def wait(
        self,
        timeout: float = JOB_WAIT_TIMEOUT,
        poll_interval: float = JOB_POLL_INTERVAL,
        *,
        output_type: type[OutT],
    ) -> JobStatus[OutT]: ...

    @overload
    def wait(
        self,
        timeout: float = JOB_WAIT_TIMEOUT,
        poll_interval: float = JOB_POLL_INTERVAL,
        *,
        output_type: None = None,
    ) -> JobStatus: ...

    @overload
    def wait(
        self,
        timeout: float = JOB_WAIT_TIMEOUT,
        poll_interval: float = JOB_POLL_INTERVAL,
        *,
        output_type: object,
    ) -> JobStatus[Any]: ...

    def wait(
        self,
        timeout: float = JOB_WAIT_TIMEOUT,
        poll_interval: float = JOB_POLL_INTERVAL,
        *,
        output_type: Any = None,
    ) -> JobStatus[Any]:
        """Poll until the job is completed, failed or cancelled; ``APITimeoutError`` after ``timeout`` s.

        A failed job is returned (check ``status`` and ``error``), not raised. With
        ``output_type`` a completed result is validated into ``status.parsed`` (a mismatch raises
        ``OutputValidationError``).
        """
        return self._link.run(self._wait_protocol(timeout, poll_interval, output_type))


class AsyncJob(_JobCore):
    """A queued execution on the asyncio client."""

    __slots__ = ()

    _link: AsyncLink

    @overload
    async def poll(
        self, timeout: Timeout = None, *, output_type: type[OutT]
    ) -> JobStatus[OutT]: ...

    @overload
    async def poll(self, timeout: Timeout = None, *, output_type: None = None) -> JobStatus: ...

    @overload
    async def poll(self, timeout: Timeout = None, *, output_type: object) -> JobStatus[Any]: ...

    async def poll(self, timeout: Timeout = None, *, output_type: Any = None) -> JobStatus[Any]:
        """Fetch the job's current status once; see :meth:`Job.poll`."""
        return await self._link.run(self._poll_protocol(timeout, output_type))

    @overload
    async def wait(
        self,
        timeout: float = JOB_WAIT_TIMEOUT,
        poll_interval: float = JOB_POLL_INTERVAL,
        *,
        output_type: type[OutT],
    ) -> JobStatus[OutT]: ...

    @overload
    async def wait(
        self,
        timeout: float = JOB_WAIT_TIMEOUT,
        poll_interval: float = JOB_POLL_INTERVAL,
        *,
        output_type: None = None,
    ) -> JobStatus: ...

    @overload
    async def wait(
        self,
        timeout: float = JOB_WAIT_TIMEOUT,
        poll_interval: float = JOB_POLL_INTERVAL,
        *,
        output_type: object,
    ) -> JobStatus[Any]: ...

    async def wait(
        self,
        timeout: float = JOB_WAIT_TIMEOUT,
        poll_interval: float = JOB_POLL_INTERVAL,
        *,
        output_type: Any = None,
    ) -> JobStatus[Any]:
        """Poll until the job is completed, failed or cancelled; see :meth:`Job.wait`."""
        return await self._link.run(self._wait_protocol(timeout, poll_interval, output_type))
