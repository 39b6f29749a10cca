"""Runs: ``Run``/``AsyncRun`` give access to an execution's traces (CONTRACT §11)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from noukai_sdk._config import validate_timeout
from noukai_sdk._effects import Protocol, run_async, run_sync
from noukai_sdk._http_types import HttpRequest
from noukai_sdk._paths import Attempt, FlowAddress, validate_segment
from noukai_sdk._requesting import RequestContext, parse_model, send_with_retries
from noukai_sdk._streams import AsyncEventStream, EventStream
from noukai_sdk_generated.models import StepAttempts, StepTrace, Trace

if TYPE_CHECKING:
    import httpx

    from noukai_sdk._client import AsyncNoukai, Noukai
    from noukai_sdk._events import StreamEvent

Timeout = Union[float, "httpx.Timeout", None]


def trace_protocol(request: HttpRequest, ctx: RequestContext) -> Protocol[Trace]:
    response = yield from send_with_retries(request, ctx)
    return parse_model(Trace, response, what="run trace")


def step_trace_protocol(
    request: HttpRequest, ctx: RequestContext, *, all_attempts: bool
) -> Protocol[StepTrace | StepAttempts]:
    response = yield from send_with_retries(request, ctx)
    if all_attempts:
        return parse_model(StepAttempts, response, what="step attempts")
    return parse_model(StepTrace, response, what="step trace")


class _RunCore:
    """State shared by ``Run`` and ``AsyncRun``."""

    __slots__ = ("_address", "_client", "_execution_id")

    def __init__(
        self, client: Noukai | AsyncNoukai, address: FlowAddress, execution_id: str
    ) -> None:
        self._client = client
        self._address = address
        self._execution_id = validate_segment(execution_id, name="execution_id")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._address)!r}, execution_id={self._execution_id!r})"

    @property
    def execution_id(self) -> str:
        return self._execution_id

    def _trace_request(self, timeout: Timeout) -> HttpRequest:
        return self._address.run_trace_request(
            self._execution_id, timeout=None if timeout is None else validate_timeout(timeout)
        )

    def _live_request(self, timeout: Timeout) -> HttpRequest:
        return self._address.live_trace_request(
            self._execution_id, timeout=None if timeout is None else validate_timeout(timeout)
        )

    def _step_trace_request(
        self, step_id: str, attempt: Attempt, loop_index: int | None, timeout: Timeout
    ) -> HttpRequest:
        return self._address.step_trace_request(
            self._execution_id,
            step_id,
            attempt=attempt,
            loop_index=loop_index,
            timeout=None if timeout is None else validate_timeout(timeout),
        )


class Run(_RunCore):
    """One execution's traces, on the blocking client."""

    __slots__ = ()

    _client: Noukai

    def trace(self, *, timeout: Timeout = None) -> Trace:
        """The run and the latest attempt of each step."""
        protocol = trace_protocol(self._trace_request(timeout), self._client._context)
        return run_sync(protocol, self._client._transport)

    def step_trace(
        self,
        step_id: str,
        attempt: Attempt = "latest",
        loop_index: int | None = None,
        *,
        timeout: Timeout = None,
    ) -> StepTrace | StepAttempts:
        """One step's trace: the latest attempt, attempt ``N``, or ``"all"`` attempts."""
        request = self._step_trace_request(step_id, attempt, loop_index, timeout)
        protocol = step_trace_protocol(
            request, self._client._context, all_attempts=attempt == "all"
        )
        return run_sync(protocol, self._client._transport)

    def live_trace(self, *, timeout: Timeout = None) -> EventStream[StreamEvent]:
        """Stream the run's events: stored ones first, then live ones until the run ends."""
        from noukai_sdk._step_protocol import live_trace_protocol

        protocol = live_trace_protocol(self._live_request(timeout), self._client._context)
        return EventStream(protocol, self._client._transport)


class AsyncRun(_RunCore):
    """One execution's traces, on the asyncio client."""

    __slots__ = ()

    _client: AsyncNoukai

    async def trace(self, *, timeout: Timeout = None) -> Trace:
        """The run and the latest attempt of each step."""
        protocol = trace_protocol(self._trace_request(timeout), self._client._context)
        return await run_async(protocol, self._client._transport)

    async def step_trace(
        self,
        step_id: str,
        attempt: Attempt = "latest",
        loop_index: int | None = None,
        *,
        timeout: Timeout = None,
    ) -> StepTrace | StepAttempts:
        """One step's trace: the latest attempt, attempt ``N``, or ``"all"`` attempts."""
        request = self._step_trace_request(step_id, attempt, loop_index, timeout)
        protocol = step_trace_protocol(
            request, self._client._context, all_attempts=attempt == "all"
        )
        return await run_async(protocol, self._client._transport)

    def live_trace(self, *, timeout: Timeout = None) -> AsyncEventStream[StreamEvent]:
        """Stream the run's events: stored ones first, then live ones until the run ends."""
        from noukai_sdk._step_protocol import live_trace_protocol

        protocol = live_trace_protocol(self._live_request(timeout), self._client._context)
        return AsyncEventStream(protocol, self._client._transport)
