"""The one place that reaches into a client for what scopes need: its request context and I/O.

Scopes fetch sessions and emit log events through the client they were opened with. Keeping the
attribute access here means a change to the client's internals touches one small function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from noukai_sdk._core.effects import AsyncIO, SyncIO
    from noukai_sdk._core.requesting import RequestContext


def request_context(client: Any) -> RequestContext:
    """The client's :class:`RequestContext` (retry policy, log hook, timeout, secrets)."""
    ctx: RequestContext = client._context
    return ctx


def is_async_client(client: Any) -> bool:
    """True for ``AsyncNoukai`` (its transport is awaited), False for ``Noukai``."""
    from noukai_sdk._transport import AsyncTransport

    return isinstance(client._transport, AsyncTransport)


def sync_io(client: Any) -> SyncIO:
    io: SyncIO = client._transport
    return io


def async_io(client: Any) -> AsyncIO:
    io: AsyncIO = client._transport
    return io
