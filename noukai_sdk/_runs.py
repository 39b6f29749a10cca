"""Runs: ``Run``/``AsyncRun`` give access to an execution's traces."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from noukai_sdk._core.config import check_timeout
from noukai_sdk._core.effects import Steps
from noukai_sdk._core.http_types import Timeout
from noukai_sdk._core.link import AsyncLink, ClientLink, SyncLink
from noukai_sdk._core.paths import Attempt, FlowAddress, validate_segment
from noukai_sdk._core.runs import step_trace_protocol, trace_protocol
from noukai_sdk._streams import AsyncEventStream, EventStream
from noukai_sdk_generated.models import StepAttempts, StepTrace

if TYPE_CHECKING:
    from noukai_sdk._core.events import StreamEvent
    from noukai_sdk._core.results import Trace


class _RunCore:
    """State shared by ``Run`` and ``AsyncRun``."""

    __slots__ = ("_address", "_execution_id", "_link", "_observe")

    def __init__(
        self,
        link: ClientLink,
        address: FlowAddress,
        execution_id: str,
        *,
        observe: Callable[[Steps[None]], Steps[None]] | None = None,
    ) -> None:
        self._link = link
        self._address = address
        self._execution_id = validate_segment(execution_id, name="execution_id")
        self._observe = observe or _as_is
        """How ``live_trace()`` runs its protocol (a traced flow wraps it in a span)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._address)!r}, execution_id={self._execution_id!r})"

    @property
    def execution_id(self) -> str:
        return self._execution_id

    def _trace_protocol(self, timeout: Timeout) -> Steps[Trace]:
        request = self._address.run_trace_request(
            self._execution_id, timeout=check_timeout(timeout)
        )
        return trace_protocol(request, self._link.context)

    def _step_trace_protocol(
        self, step_id: str, attempt: Attempt, loop_index: int | None, timeout: Timeout
    ) -> Steps[StepTrace | StepAttempts]:
        request = self._address.step_trace_request(
            self._execution_id,
            step_id,
            attempt=attempt,
            loop_index=loop_index,
            timeout=check_timeout(timeout),
        )
        return step_trace_protocol(request, self._link.context, all_attempts=attempt == "all")

    def _live_trace_protocol(self, timeout: Timeout) -> Steps[None]:
        from noukai_sdk._core.step_protocol import live_trace_protocol

        request = self._address.live_trace_request(
            self._execution_id, timeout=check_timeout(timeout)
        )
        protocol = live_trace_protocol(request, self._link.context, execution_id=self._execution_id)
        return self._observe(protocol)


def _as_is(protocol: Steps[None]) -> Steps[None]:
    return protocol


class Run(_RunCore):
    """One execution's traces, on the blocking client."""

    __slots__ = ()

    _link: SyncLink

    def trace(self, timeout: Timeout = None) -> Trace:
        """The run and the latest attempt of each step."""
        return self._link.run(self._trace_protocol(timeout))

    def step_trace(
        self,
        step_id: str,
        attempt: Attempt = "latest",
        loop_index: int | None = None,
        timeout: Timeout = None,
    ) -> StepTrace | StepAttempts:
        """One step's trace: the latest attempt, attempt ``N``, or ``"all"`` attempts."""
        protocol = self._step_trace_protocol(step_id, attempt, loop_index, timeout)
        return self._link.run(protocol)

    def live_trace(self, *, timeout: Timeout = None) -> EventStream[StreamEvent]:
        """Stream the run's events: stored ones first, then live ones until the run ends."""
        return EventStream(self._live_trace_protocol(timeout), self._link.io)


class AsyncRun(_RunCore):
    """One execution's traces, on the asyncio client."""

    __slots__ = ()

    _link: AsyncLink

    async def trace(self, timeout: Timeout = None) -> Trace:
        """The run and the latest attempt of each step."""
        return await self._link.run(self._trace_protocol(timeout))

    async def step_trace(
        self,
        step_id: str,
        attempt: Attempt = "latest",
        loop_index: int | None = None,
        timeout: Timeout = None,
    ) -> StepTrace | StepAttempts:
        """One step's trace: the latest attempt, attempt ``N``, or ``"all"`` attempts."""
        protocol = self._step_trace_protocol(step_id, attempt, loop_index, timeout)
        return await self._link.run(protocol)

    def live_trace(self, *, timeout: Timeout = None) -> AsyncEventStream[StreamEvent]:
        """Stream the run's events: stored ones first, then live ones until the run ends."""
        return AsyncEventStream(self._live_trace_protocol(timeout), self._link.io)
