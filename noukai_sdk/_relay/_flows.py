"""``RelayFlow``/``AsyncRelayFlow``: run a flow through a relay route, without an API key.

The relay pins the flow; the caller sends the same ``/execute`` body as :class:`~noukai_sdk.Flow`
and runs the tool loop itself. Both classes drive the SDK's one execute protocol
(:func:`~noukai_sdk._core.execute.execute_protocol`: tool-result normalisation, round limit, history
warning, response validation) against their relay transport, and map error statuses with the
relay's response headers (``X-Request-ID``, ``Retry-After``, ``WWW-Authenticate``). The resume
token a relay adds to each paused reply is sent back with that pause's resume automatically.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, overload

from noukai_sdk._closing import AsyncClosing, Closing
from noukai_sdk._core.effects import Steps
from noukai_sdk._core.execute import (
    AsyncToolHandler,
    ExecuteCall,
    ToolHandler,
    execute_protocol,
    resumable,
)
from noukai_sdk._core.link import AsyncLink, SyncLink
from noukai_sdk._core.options import RelayExecuteOptions, check_options
from noukai_sdk._core.results import ExecuteOutcome, ExecuteResult, PausedResult
from noukai_sdk._core.tool_calls import is_async_callable
from noukai_sdk._relay._carry import ResumeTokens, carrying_resume_tokens
from noukai_sdk._relay._transport import (
    RelayConnection,
    RelayEndpoint,
    RelayExecuteTransport,
    RelaySyncExecuteTransport,
    relay_link,
    relay_target,
)

if TYPE_CHECKING:
    import httpx
    from typing_extensions import Unpack

OutT = TypeVar("OutT")
TransportT = TypeVar("TransportT", RelaySyncExecuteTransport, RelayExecuteTransport)


class _RelayFlowCore(RelayEndpoint):
    """Call building shared by ``RelayFlow`` and ``AsyncRelayFlow``."""

    def _connect(
        self, transport: type[TransportT], url: str, connection: RelayConnection[Any]
    ) -> TransportT:
        """This flow's own transport to ``url``, and the link its calls run through."""
        check_options(f"{type(self).__name__}()", connection, RelayConnection)
        relay = transport(url, **connection)
        self._target = relay_target(relay)
        self._tokens = ResumeTokens()
        link: SyncLink | AsyncLink = relay_link(relay, connection.get("timeout"))
        self._link = link
        return relay

    def _execute_protocol(
        self,
        message: str | None,
        tool_handler: AsyncToolHandler | None,
        output_type: Any,
        options: RelayExecuteOptions,
    ) -> Steps[ExecuteOutcome]:
        """The execute protocol against the relay, resume tokens carried on every resume."""
        check_options(f"{type(self).__name__}.execute()", options, RelayExecuteOptions)
        sync_client = isinstance(self._link, SyncLink)
        if sync_client and tool_handler is not None and is_async_callable(tool_handler):
            raise TypeError("Sync RelayFlow cannot use async tool_handler. Use AsyncRelayFlow.")
        call = ExecuteCall.from_args(
            self._target,
            client_session_id=None,
            in_session=False,
            message=message,
            tool_handler=tool_handler,
            output_type=output_type,
            **options,
        )
        return resumable(call, self._link, execute_protocol(call, self._link.context), self._carry)

    def _carry(self, protocol: Steps[ExecuteOutcome]) -> Steps[ExecuteOutcome]:
        return carrying_resume_tokens(protocol, self._tokens)


class RelayFlow(Closing, _RelayFlowCore):
    """A flow behind a relay route (blocking): ``RelayFlow("https://app.example/agent/execute")``.

    No API key: the relay adds it server-side. ``client`` is an optional ``httpx.Client``
    (not closed by :meth:`close`); ``timeout`` defaults to 300 s. One connection pool per
    ``RelayFlow``; use it as a context manager or call :meth:`close`.
    """

    _link: SyncLink

    def __init__(self, url: str, **connection: Unpack[RelayConnection[httpx.Client]]) -> None:
        self._relay = self._connect(RelaySyncExecuteTransport, url, connection)

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
        tool_handler: ToolHandler | None = None,
        output_type: Any = None,
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult[Any] | PausedResult[Any]:
        """Run the relayed flow; with ``tool_handler`` every tool pause is answered automatically.

        Without a handler a pause comes back as a :class:`PausedResult` to answer with
        ``resume_sync()``.
        """
        return self._link.run(self._execute_protocol(message, tool_handler, output_type, options))

    def close(self) -> None:
        """Release the connection pool (an injected ``client`` stays open); idempotent."""
        self._relay.close()


class AsyncRelayFlow(AsyncClosing, _RelayFlowCore):
    """A flow behind a relay route (asyncio); see :class:`RelayFlow`. Handlers may be async."""

    _link: AsyncLink

    def __init__(self, url: str, **connection: Unpack[RelayConnection[httpx.AsyncClient]]) -> None:
        self._relay = self._connect(RelayExecuteTransport, url, connection)

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
        tool_handler: AsyncToolHandler | None = None,
        output_type: Any = None,
        **options: Unpack[RelayExecuteOptions],
    ) -> ExecuteResult[Any] | PausedResult[Any]:
        """Run the relayed flow; see :meth:`RelayFlow.execute`. A pause resumes with ``await resume()``."""
        protocol = self._execute_protocol(message, tool_handler, output_type, options)
        return await self._link.run(protocol)

    async def aclose(self) -> None:
        """Release the connection pool (an injected ``client`` stays open); idempotent."""
        await self._relay.aclose()
