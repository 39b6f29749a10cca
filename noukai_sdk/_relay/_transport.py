"""Keyless I/O for a relay URL: the SDK's own transports, minus the key and the base URL.

A relay holds the API key server-side, so nothing the SDK normally adds (``Authorization``, the
API-version pin, the SDK user agent, ``X-Session-Id``) is sent to it. Connection pooling, timeouts
and the mapping of network failures to :class:`~noukai_sdk.APIConnectionError` /
:class:`~noukai_sdk.APITimeoutError` are the transport's, unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, overload

from typing_extensions import TypedDict

from noukai_sdk._closing import AsyncClosing, Closing
from noukai_sdk._core.config import validate_timeout
from noukai_sdk._core.constants import DEFAULT_MAX_CONCURRENCY, DEFAULT_TIMEOUT
from noukai_sdk._core.effects import Steps, run_async, run_sync, send
from noukai_sdk._core.http_types import HttpRequest, Timeout, TimeoutValue
from noukai_sdk._core.link import AsyncLink, SyncLink
from noukai_sdk._core.options import check_options
from noukai_sdk._core.requesting import RequestContext
from noukai_sdk._core.retry import RetryPolicy
from noukai_sdk._transport import AsyncTransport, SyncTransport

if TYPE_CHECKING:
    import httpx
    from typing_extensions import Unpack

ClientT = TypeVar("ClientT")


@dataclass(frozen=True, slots=True)
class RelayTarget:
    """The relay route as an execute target: every call and resume is ``POST <url>``.

    The relay pins the flow and its version and never receives a session id, so ``version``
    and ``session_id`` are not sent (relay calls are always built with ``None`` for both).
    """

    url: str

    def operation_request(
        self,
        op: str,
        *,
        version: int | None,
        body: Any,
        session_id: str | None,
        timeout: Timeout,
    ) -> HttpRequest:
        return HttpRequest("POST", self.url, json=_wire(body), timeout=timeout)


def _wire(body: Any) -> Any:
    to_wire = getattr(body, "to_wire", None)
    return to_wire() if callable(to_wire) else body


def relay_url(url: object) -> str:
    """The relay URL as given (absolute, or relative to an injected client's ``base_url``)."""
    if not isinstance(url, str):
        raise TypeError(f"url must be a string, got {type(url).__name__}")
    if not url.strip():
        raise ValueError("url must not be empty")
    return url


def relay_timeout(timeout: Timeout) -> TimeoutValue:
    """``None`` means the default (300 s); otherwise a positive number or an ``httpx.Timeout``."""
    return DEFAULT_TIMEOUT if timeout is None else validate_timeout(timeout)


def _keyless(timeout: TimeoutValue, http_client: object, owner: str) -> dict[str, Any]:
    """Transport arguments for a relay: no base URL, no key, the default concurrency bound."""
    return {
        "base_url": "",
        "api_key": "",
        "timeout": timeout,
        "http_client": http_client,
        "max_concurrency": DEFAULT_MAX_CONCURRENCY,
        "owner": f"{owner}:client=",
    }


class KeylessSyncIO(SyncTransport):
    """:class:`SyncTransport` without a base URL or any SDK header (the relay owns the key)."""

    def __init__(self, *, timeout: TimeoutValue, http_client: object) -> None:
        super().__init__(**_keyless(timeout, http_client, "RelayFlow / RelaySyncExecuteTransport"))
        self._headers = {}


class KeylessAsyncIO(AsyncTransport):
    """:class:`AsyncTransport` without a base URL or any SDK header (the relay owns the key)."""

    def __init__(self, *, timeout: TimeoutValue, http_client: object) -> None:
        super().__init__(**_keyless(timeout, http_client, "AsyncRelayFlow / RelayExecuteTransport"))
        self._headers = {}


def json_object(content: bytes) -> dict[str, Any]:
    """The body as a JSON object; anything else (not JSON, an array, empty) is ``{}``."""
    try:
        value = json.loads(content) if content else None
    except ValueError:
        return {}
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


class RelayConnection(TypedDict, Generic[ClientT], total=False):
    """How a relay flow or transport connects: ``client``, an optional httpx client you configure
    (proxies, TLS, ``base_url`` for a relative ``url``; never closed for you), and ``timeout``
    (default 300 s)."""

    client: ClientT | None
    timeout: float | httpx.Timeout | None


class RelayEndpoint:
    """What relay flows and transports show of their route: the URL, and a repr naming it."""

    __slots__ = ()

    _target: RelayTarget

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    @property
    def url(self) -> str:
        """The relay route every call is POSTed to."""
        return self._target.url


def relay_connection(
    owner: object, url: str, connection: RelayConnection[Any]
) -> tuple[RelayTarget, TimeoutValue, object]:
    """The checked target, timeout and injected client of a relay flow or transport."""
    check_options(f"{type(owner).__name__}()", connection, RelayConnection)
    timeout = relay_timeout(connection.get("timeout"))
    return RelayTarget(relay_url(url)), timeout, connection.get("client")


class RelaySyncExecuteTransport(Closing, RelayEndpoint):
    """One ``POST <url>`` per :meth:`send`, over one pooled ``httpx.Client`` (blocking).

    ``client`` is an optional ``httpx.Client`` you configure (proxies, TLS, ``base_url`` for a
    relative ``url``); it is not closed by :meth:`close`. Network failures raise
    :class:`~noukai_sdk.APIConnectionError` / :class:`~noukai_sdk.APITimeoutError`.
    """

    def __init__(self, url: str, **connection: Unpack[RelayConnection[httpx.Client]]) -> None:
        self._target, timeout, client = relay_connection(self, url, connection)
        self._io = KeylessSyncIO(timeout=timeout, http_client=client)

    def send(self, payload: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST ``payload`` (an ``ExecuteRequest`` in wire form); return the status and JSON object.

        A body that is not a JSON object comes back as ``{}``; error statuses are returned, not
        raised.
        """
        return run_sync(post_protocol(self._target, payload), self._io)

    def close(self) -> None:
        """Release the connection pool (only when this object created the httpx client)."""
        self._io.close()


class RelayExecuteTransport(AsyncClosing, RelayEndpoint):
    """One ``POST <url>`` per :meth:`send`, over one pooled ``httpx.AsyncClient`` (asyncio).

    See :class:`RelaySyncExecuteTransport`; ``client`` is an ``httpx.AsyncClient``.
    """

    def __init__(self, url: str, **connection: Unpack[RelayConnection[httpx.AsyncClient]]) -> None:
        self._target, timeout, client = relay_connection(self, url, connection)
        self._io = KeylessAsyncIO(timeout=timeout, http_client=client)

    async def send(self, payload: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST ``payload``; return the status and the JSON object (see the sync class)."""
        return await run_async(post_protocol(self._target, payload), self._io)

    async def aclose(self) -> None:
        """Release the connection pool (only when this object created the httpx client)."""
        await self._io.aclose()


def post_protocol(
    target: RelayTarget, payload: Mapping[str, Any]
) -> Steps[tuple[int, dict[str, Any]]]:
    """One POST of ``payload`` to the relay: its status and JSON object."""
    request = target.operation_request(
        "execute", version=None, body=dict(payload), session_id=None, timeout=None
    )
    response = yield from send(request)
    return response.status_code, json_object(response.content)


@overload
def relay_link(transport: RelaySyncExecuteTransport, timeout: Timeout) -> SyncLink: ...
@overload
def relay_link(transport: RelayExecuteTransport, timeout: Timeout) -> AsyncLink: ...
def relay_link(
    transport: RelaySyncExecuteTransport | RelayExecuteTransport, timeout: Timeout
) -> SyncLink | AsyncLink:
    """The link a relay flow drives the execute protocol with: the transport's keyless I/O.

    Relay calls are never retried: a POST may already have run (and billed) the flow.
    """
    context = RequestContext(retry=RetryPolicy(max_retries=0), timeout=relay_timeout(timeout))
    if isinstance(transport, RelaySyncExecuteTransport):
        return SyncLink(context, transport._io, None)
    return AsyncLink(context, transport._io, None)


def relay_target(transport: RelaySyncExecuteTransport | RelayExecuteTransport) -> RelayTarget:
    """Where the transport POSTs: the address execute calls and their resumes are built for."""
    return transport._target
