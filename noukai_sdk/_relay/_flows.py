"""``RelayFlow``/``AsyncRelayFlow``: run a flow through a relay route, without an API key.

The relay pins the flow; the caller sends the same ``/execute`` body as :class:`~noukai_sdk.Flow`
and runs the tool loop itself. Both classes drive the SDK's one execute protocol
(:func:`~noukai_sdk._core.execute.execute_protocol`: tool-result normalisation, round limit, history
warning, response validation) against their relay transport, and map error statuses with the
relay's response headers (``X-Request-ID``, ``Retry-After``, ``WWW-Authenticate``). The resume
token a relay adds to each paused reply is sent back with that pause's resume automatically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from noukai_sdk._closing import AsyncClosing, Closing
from noukai_sdk._core.constants import DEFAULT_MAX_TOOL_ROUNDS
from noukai_sdk._core.execute import (
    AsyncToolHandler,
    ExecuteCall,
    MessageInput,
    ToolHandler,
    execute_protocol,
    public_arguments,
    resume_protocol,
)
from noukai_sdk._core.results import (
    ExecuteOutcome,
    ExecuteResult,
    PausedResult,
    ResumeBinding,
    ToolResults,
)
from noukai_sdk._core.tool_calls import is_async_callable
from noukai_sdk._relay._carry import ResumeTokens, carrying_resume_tokens
from noukai_sdk._relay._transport import (
    RelayExecuteTransport,
    RelaySyncExecuteTransport,
    RelayTarget,
    relay_link,
    relay_target,
)

if TYPE_CHECKING:
    import httpx
    from typing_extensions import TypedDict, Unpack

    class RelayExecuteOptions(TypedDict, total=False):
        """The keyword arguments of ``execute()`` that do not change its return type."""

        messages: Sequence[MessageInput] | None
        parameters: Mapping[str, Any] | None
        tools: Sequence[Any] | None
        tool_choice: Any
        max_tool_rounds: int | None
        trace: bool


OutT = TypeVar("OutT")


class _RelayFlowCore:
    """Call building shared by ``RelayFlow`` and ``AsyncRelayFlow``."""

    _target: RelayTarget
    _tokens: ResumeTokens

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    @property
    def url(self) -> str:
        """The relay route every call is POSTed to."""
        return self._target.url


class RelayFlow(Closing, _RelayFlowCore):
    """A flow behind a relay route (blocking): ``RelayFlow("https://app.example/agent/execute")``.

    No API key: the relay adds it server-side. ``client`` is an optional ``httpx.Client``
    (not closed by :meth:`close`); ``timeout`` defaults to 300 s. One connection pool per
    ``RelayFlow``; use it as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> None:
        self._relay = RelaySyncExecuteTransport(url, client=client, timeout=timeout)
        self._target = relay_target(self._relay)
        self._tokens = ResumeTokens()
        self._link = relay_link(self._relay, timeout)

    @property
    def transport(self) -> RelaySyncExecuteTransport:
        """The transport doing the POSTs (for sending a ready payload yourself)."""
        return self._relay

    @overload
    def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: ToolHandler,
        output_type: type[OutT],
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult[OutT]: ...

    @overload
    def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: ToolHandler,
        output_type: None = None,
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult: ...

    @overload
    def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: None = None,
        output_type: type[OutT],
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult[OutT] | PausedResult[OutT]: ...

    @overload
    def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: None = None,
        output_type: None = None,
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult | PausedResult: ...

    @overload
    def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: ToolHandler,
        output_type: object,
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult[Any]: ...

    @overload
    def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: None = None,
        output_type: object,
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult[Any] | PausedResult[Any]: ...

    def execute(
        self,
        message: str | None = None,
        *,
        messages: Sequence[MessageInput] | None = None,
        parameters: Mapping[str, Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        tool_handler: ToolHandler | None = None,
        max_tool_rounds: int | None = DEFAULT_MAX_TOOL_ROUNDS,
        trace: bool = False,
        output_type: Any = None,
    ) -> ExecuteResult[Any] | PausedResult[Any]:
        """Run the relayed flow; with ``tool_handler`` every tool pause is answered automatically.

        Without a handler a pause comes back as a :class:`PausedResult` to answer with
        ``resume_sync()``.
        """
        arguments = public_arguments(locals())
        if tool_handler is not None and is_async_callable(tool_handler):
            raise TypeError("Sync RelayFlow cannot use async tool_handler. Use AsyncRelayFlow.")
        call = ExecuteCall.from_args(
            self._target,
            client_session_id=None,
            in_session=False,
            **arguments,
        )
        protocol = carrying_resume_tokens(execute_protocol(call, self._link.context), self._tokens)
        outcome = self._link.run(protocol)
        return self._bind(outcome, call)

    def _bind(self, outcome: ExecuteOutcome, call: ExecuteCall) -> ExecuteOutcome:
        if isinstance(outcome, PausedResult):

            def resume(paused: PausedResult, tool_results: ToolResults) -> ExecuteOutcome:
                protocol = carrying_resume_tokens(
                    resume_protocol(call, paused, tool_results, self._link.context), self._tokens
                )
                return self._bind(self._link.run(protocol), call)

            outcome._binding = ResumeBinding(is_async=False, resume=resume)
        return outcome

    def close(self) -> None:
        """Release the connection pool (an injected ``client`` stays open); idempotent."""
        self._relay.close()


class AsyncRelayFlow(AsyncClosing, _RelayFlowCore):
    """A flow behind a relay route (asyncio); see :class:`RelayFlow`. Handlers may be async."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout | None = None,
    ) -> None:
        self._relay = RelayExecuteTransport(url, client=client, timeout=timeout)
        self._target = relay_target(self._relay)
        self._tokens = ResumeTokens()
        self._link = relay_link(self._relay, timeout)

    @property
    def transport(self) -> RelayExecuteTransport:
        """The transport doing the POSTs (for sending a ready payload yourself)."""
        return self._relay

    @overload
    async def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: AsyncToolHandler,
        output_type: type[OutT],
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult[OutT]: ...

    @overload
    async def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: AsyncToolHandler,
        output_type: None = None,
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult: ...

    @overload
    async def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: None = None,
        output_type: type[OutT],
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult[OutT] | PausedResult[OutT]: ...

    @overload
    async def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: None = None,
        output_type: None = None,
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult | PausedResult: ...

    @overload
    async def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: AsyncToolHandler,
        output_type: object,
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult[Any]: ...

    @overload
    async def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: None = None,
        output_type: object,
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult[Any] | PausedResult[Any]: ...

    async def execute(
        self,
        message: str | None = None,
        *,
        messages: Sequence[MessageInput] | None = None,
        parameters: Mapping[str, Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        tool_handler: AsyncToolHandler | None = None,
        max_tool_rounds: int | None = DEFAULT_MAX_TOOL_ROUNDS,
        trace: bool = False,
        output_type: Any = None,
    ) -> ExecuteResult[Any] | PausedResult[Any]:
        """Run the relayed flow; see :meth:`RelayFlow.execute`. A pause resumes with ``await resume()``."""
        arguments = public_arguments(locals())
        call = ExecuteCall.from_args(
            self._target,
            client_session_id=None,
            in_session=False,
            **arguments,
        )
        protocol = carrying_resume_tokens(execute_protocol(call, self._link.context), self._tokens)
        outcome = await self._link.run(protocol)
        return self._bind(outcome, call)

    def _bind(self, outcome: ExecuteOutcome, call: ExecuteCall) -> ExecuteOutcome:
        if isinstance(outcome, PausedResult):

            async def resume(paused: PausedResult, tool_results: ToolResults) -> ExecuteOutcome:
                protocol = carrying_resume_tokens(
                    resume_protocol(call, paused, tool_results, self._link.context), self._tokens
                )
                return self._bind(await self._link.run(protocol), call)

            outcome._binding = ResumeBinding(is_async=True, resume=resume)
        return outcome

    async def aclose(self) -> None:
        """Release the connection pool (an injected ``client`` stays open); idempotent."""
        await self._relay.aclose()
