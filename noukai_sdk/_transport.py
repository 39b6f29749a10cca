"""The only module that talks to the HTTP library: turns :class:`HttpRequest` values into traffic.

``SyncTransport``/``AsyncTransport`` implement ``SyncIO``/``AsyncIO`` of :mod:`noukai_sdk._core.effects`.
They add the constant headers (built once per client), serialise bodies, apply timeouts, cap the
requests and streams in flight (``max_concurrency``), and map every failure of the HTTP library —
while sending, opening a stream or reading one — to :class:`APIConnectionError` /
:class:`APITimeoutError` in :func:`_connection_error`, one place.

The library is httpx, or httpx2 when the user hands over one of its objects (an ``httpx2.Client``
as ``http_client=``, or an ``httpx2.Timeout`` as ``timeout=`` without a client). Both have the same
API, so one implementation serves both; httpx2 is imported only in that case.
"""

from __future__ import annotations

import json
import platform
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from functools import cache
from types import ModuleType
from typing import Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

import httpx

from noukai_sdk._core.constants import API_VERSION, API_VERSION_HEADER, RESERVED_HEADERS
from noukai_sdk._core.errors import APIConnectionError, APITimeoutError
from noukai_sdk._core.http_types import HttpRequest, HttpResponse, StreamHead, library_of
from noukai_sdk._version import __version__

ClientT = TypeVar("ClientT", httpx.Client, httpx.AsyncClient)
"""The static type of the pooled client; an httpx2 client has the same API and is typed as this."""

_SEND_OPTIONS: dict[str, Any] = {"auth": None, "follow_redirects": False}
"""Overrides of an injected client's ``auth`` and ``follow_redirects``: the SDK's bearer key is the
only credential sent, and a redirect never takes a request (or the key) away from the base URL.
A transport built without a key (the relay client talking to the user's own server) keeps the
injected client's settings."""

_NOT_SENT_NAMES = ("ConnectError", "ConnectTimeout", "PoolTimeout", "UnsupportedProtocol")


def user_agent(library: ModuleType = httpx) -> str:
    """``noukai-python/<sdk> (httpx/<v>; python/<x.y.z>; <OS>)`` (``httpx2/<v>`` on httpx2): the
    server tells SDKs apart by it."""
    return (
        f"noukai-python/{__version__} ({library.__name__}/{library.__version__}; "
        f"python/{platform.python_version()}; {platform.system() or 'Unknown'})"
    )


def constant_headers(api_key: str, library: ModuleType = httpx) -> dict[str, str]:
    """Headers sent on every request; built once per client."""
    return {
        "Authorization": f"Bearer {api_key}",
        API_VERSION_HEADER: API_VERSION,
        "User-Agent": user_agent(library),
        "Accept": "application/json",
    }


def allowed_request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Per-request headers minus the reserved ones, compared case-insensitively."""
    return {k: v for k, v in headers.items() if k.lower() not in RESERVED_HEADERS}


# --- which library, timeouts ----------------------------------------------------------------------


def http_library(http_client: object, timeout: object) -> ModuleType:
    """httpx2 for an httpx2 client (or, with no client, an httpx2 timeout); httpx otherwise."""
    chosen = http_client if http_client is not None else timeout
    if library_of(chosen) == "httpx2":
        import httpx2

        return httpx2
    return httpx


_LONGEST_TIMEOUT = 1e8
"""Seconds (about three years): longer timeouts, ``inf`` included, mean the same and are clamped
to this, because the blocking socket layer overflows on them."""

_TIMEOUT_PHASES = ("connect", "read", "write", "pool")


def timeout_phases(timeout: object) -> dict[str, float | None]:
    """``{"connect", "read", "write", "pool"}`` seconds of a number or either library's ``Timeout``."""
    if isinstance(timeout, (int, float)):
        seconds = min(float(timeout), _LONGEST_TIMEOUT)
        return dict.fromkeys(_TIMEOUT_PHASES, seconds)
    phases = cast("dict[str, float | None]", cast(Any, timeout).as_dict())
    return {phase: phases.get(phase) for phase in _TIMEOUT_PHASES}


def as_httpx_timeout(timeout: object) -> httpx.Timeout:
    """The timeout as an ``httpx.Timeout`` (from a number or either library's ``Timeout``)."""
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(**timeout_phases(timeout))


# --- the pool the SDK builds ---------------------------------------------------------------------


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    import ipaddress

    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cache
def shared_ssl_context(library: ModuleType, *, verified: bool) -> Any:
    """One TLS context per library for all clients of the process (building one costs ~20 ms).

    ``verified=False`` is for clients that only ever talk plain HTTP to a loopback base URL: a
    context with no trusted certificate at all, so any TLS connection through it fails to verify.
    """
    if verified:
        return library.create_ssl_context()
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def default_client(
    library: ModuleType, kind: str, *, base_url: str, max_concurrency: int
) -> httpx.Client | httpx.AsyncClient:
    """The pooled client the SDK builds when none is injected.

    The pool holds ``max_concurrency`` connections and keeps them all alive between bursts, so a
    client running at its bound never waits for, or reconnects, a connection. The TLS context is
    the process's shared one. For a loopback base URL the environment's proxy settings
    (``HTTP(S)_PROXY``/``ALL_PROXY``) are not used: the bearer key must not reach a proxy in
    cleartext on its way to a local dev server.
    """
    loopback = is_loopback_url(base_url)
    plain_loopback = loopback and base_url.startswith("http://")
    limits = library.Limits(
        max_connections=max_concurrency, max_keepalive_connections=max_concurrency
    )
    verify = shared_ssl_context(library, verified=not plain_loopback)
    client_class = library.Client if kind == "sync" else library.AsyncClient
    client = client_class(limits=limits, verify=verify, trust_env=not loopback)
    _use_linear_pool(client._transport, limits, verify)
    return cast("httpx.Client | httpx.AsyncClient", client)


def _use_linear_pool(transport: object, limits: httpx.Limits, verify: Any) -> None:
    """Put ``transport`` (the client's own, built by httpx or httpx2) over a pool that assigns
    connections in linear time and probes idle sockets sparingly (see :func:`_assign_linear`).

    Neither library takes a pool from outside, and handing it a whole transport would switch
    off its proxy settings from the environment, so the pool of the transport it built is
    replaced. Only the plain pool of httpcore or httpcore2 (told by its class name, without
    importing either) with the state the replacement works on is; a proxy pool, or a core
    version with other internals, stays as it is.
    """
    pool: object = getattr(transport, "_pool", None)
    stock: type[Any] = type(pool)
    if f"{stock.__module__.partition('.')[0]}.{stock.__name__}" in _STOCK_POOLS and all(
        hasattr(pool, name) for name in _POOL_STATE
    ):
        cast(Any, transport)._pool = _linear_pool_class(stock)(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
        )


_STOCK_POOLS = frozenset(
    f"{core}.{name}"
    for core in ("httpcore", "httpcore2")
    for name in ("ConnectionPool", "AsyncConnectionPool")
)
"""The pools :func:`_use_linear_pool` replaces: a core library's own, not its proxy subclasses."""

_POOL_STATE = ("_requests", "_connections", "_max_connections", "_max_keepalive_connections")
"""The state of httpcore's pool that :func:`_assign_linear` works on (httpcore 1.0.x)."""

_EXPIRY_SWEEP_SECONDS = 1.0
"""How often, at most, every idle connection's socket is checked for a server-side close or an
expired keep-alive; the connection a request is about to reuse is checked every time."""


def _linear_pool_class(stock: type[Any]) -> type[Any]:
    """``stock`` (a sync or async pool of httpcore or httpcore2) with its assignment replaced
    by :func:`_assign_linear`; defined on first use, from the class the library built (httpx
    imports its core only then, and the SDK never imports it by name)."""
    known = _LINEAR_POOLS.get(stock)
    if known is not None:
        return known

    class LinearPool(stock):  # type: ignore[misc]
        _next_sweep = 0.0

        def _assign_requests_to_connections(self) -> list[Any]:
            return _assign_linear(self)

    LinearPool.__name__ = LinearPool.__qualname__ = f"Linear{stock.__name__}"
    _LINEAR_POOLS[stock] = LinearPool
    return LinearPool


_LINEAR_POOLS: dict[type[Any], type[Any]] = {}


def _assign_linear(pool: Any) -> list[Any]:
    """httpcore 1.x's pool bookkeeping in linear time, never offering one idle connection to two
    requests; returns the connections to close.

    httpcore 1.x runs its assignment on every request start and every response close, and each
    run (1) counts the pool once per idle connection (quadratic in the pool size), (2) polls the
    socket of every idle connection (a system call each), and (3) offers an idle connection that
    was just assigned to a request, but not yet sent on, to the next queued request too: the
    loser gets ``ConnectionNotAvailable`` and goes round again. At concurrency 50 over a pool of
    50 kept-alive connections that is several rounds and thousands of calls per request, so a
    large keep-alive pool cost more CPU than reconnecting. httpcore2 fixed (1) and (3) but
    still probes every idle socket on every pass. The rules stay the libraries': closed
    connections leave, expired ones are closed, idle ones beyond ``max_keepalive_connections``
    are closed, a queued request takes the first available connection of its origin, else a
    new one while under ``max_connections``, else one that replaces an idle connection; with
    httpcore2, a connection whose request was cancelled before it connected is dropped. The
    SDK's pools speak HTTP/1.1 only, where an idle connection takes one request at a time.
    """
    now = time.monotonic()
    sweep = now >= pool._next_sweep
    if sweep:
        pool._next_sweep = now + _EXPIRY_SWEEP_SECONDS
    reserved = {id(r.connection) for r in pool._requests if r.connection is not None}
    closing: list[Any] = []
    kept: list[Any] = []
    idle = 0
    for connection in pool._connections:
        if connection.is_closed():
            continue
        if id(connection) not in reserved and not _connected(connection):
            continue
        if id(connection) not in reserved and connection.is_idle():
            if (sweep and connection.has_expired()) or idle >= pool._max_keepalive_connections:
                closing.append(connection)
                continue
            idle += 1
        kept.append(connection)
    pool._connections = kept
    for pool_request in pool._requests:
        if not pool_request.is_queued():
            continue
        origin = pool_request.request.url.origin
        connection = _available(kept, origin, reserved, closing)
        if connection is None:
            if len(kept) >= pool._max_connections:
                connection = _unreserved_idle(kept, reserved)
                if connection is None:
                    continue  # waits until a request finishes
                kept.remove(connection)
                closing.append(connection)
            connection = pool.create_connection(origin)
            kept.append(connection)
        reserved.add(id(connection))
        pool_request.assign_to_connection(connection)
    return closing


def _connected(connection: Any) -> bool:
    """httpcore2 tells a connection that never connected (its request was cancelled first);
    httpcore 1.x keeps such connections, as it always has."""
    is_connected = getattr(connection, "is_connected", None)
    return True if is_connected is None else bool(is_connected())


def _available(connections: list[Any], origin: Any, reserved: set[int], closing: list[Any]) -> Any:
    """The first connection that can take a request to ``origin`` now; an idle one is checked
    for expiry first (and moved from ``connections`` to ``closing`` if it has expired)."""
    expired: list[Any] = []
    found = None
    for connection in connections:
        if not connection.is_available() or not connection.can_handle_request(origin):
            continue
        if connection.is_idle():
            if id(connection) in reserved:
                continue  # assigned to a request that has not sent on it yet
            if connection.has_expired():
                expired.append(connection)
                continue
        found = connection
        break
    for connection in expired:
        connections.remove(connection)
    closing.extend(expired)
    return found


def _unreserved_idle(connections: list[Any], reserved: set[int]) -> Any:
    for connection in connections:
        if connection.is_idle() and id(connection) not in reserved:
            return connection
    return None


# --- the transports ------------------------------------------------------------------------------


class _TransportBase(Generic[ClientT]):
    """State and request building shared by both transports.

    Building a request through ``client.build_request`` re-parses the URL and re-merges every
    header on each call. Here the parsed URL of each path and the merged header set (the client's
    own headers, then the SDK's) are kept, so a request costs a header copy plus its
    ``Content-Length``. Requests with a query string, and clients holding cookies or default
    query parameters, take ``build_request`` as before.
    """

    _client: ClientT

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: object,
        http_client: object,
        kind: str,
        owner: str,
        max_concurrency: int,
    ) -> None:
        lib = self._lib = http_library(http_client, timeout)
        if http_client is not None:
            _check_client(http_client, lib, kind, owner)
        self._request_error: type[Exception] = lib.RequestError
        self._base_url = base_url.rstrip("/")
        self._headers = constant_headers(api_key, lib)
        self._send_options: dict[str, Any] = _SEND_OPTIONS if api_key else {}
        self._timeout_extension = timeout_phases(timeout)
        self._timeout = lib.Timeout(**self._timeout_extension)
        self._max_concurrency = max_concurrency
        self._urls: dict[str, httpx.URL] = {}
        self._header_sets = _HeaderSets.empty(lib)
        self._closed = False
        self._owns_client = http_client is None
        self._client = cast(
            "ClientT",
            http_client
            if http_client is not None
            else default_client(lib, kind, base_url=base_url, max_concurrency=max_concurrency),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def max_concurrency(self) -> int:
        return self._max_concurrency

    def _slot_wait(self, request: HttpRequest) -> float | None:
        """How long a request may wait for a free slot: its pool timeout (``None``: no limit)."""
        if request.timeout is None:
            return self._timeout_extension["pool"]
        return timeout_phases(request.timeout)["pool"]

    def _no_slot(self, waited: float | None) -> APITimeoutError:
        return APITimeoutError(
            f"Request timed out after {waited} s waiting for one of this client's "
            f"{self._max_concurrency} request slots (max_concurrency={self._max_concurrency}): "
            "every slot was held by another request or open stream",
            reached_server=False,
        )

    def _build(self, request: HttpRequest) -> httpx.Request:
        if self._closed:
            raise RuntimeError("This Noukai client has been closed.")
        client = self._client
        lib = self._lib
        content: bytes | None = None
        if request.json is not None:
            content = json.dumps(
                request.json, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
        url = self._url(request.path)
        if (
            request.params
            or (content is None and request.method == "POST")
            or url.is_relative_url
            or client.params
            or client.cookies
        ):
            return self._build_with_client(request, content)
        sets = self._header_sets
        if not sets.valid_for(self._headers, client.headers):
            sets = self._header_sets = _HeaderSets.merge(lib, self._headers, client.headers, url)
        extra = allowed_request_headers(request.headers) if request.headers else None
        headers = sets.for_request(extra, has_body=content is not None)
        timeout = (
            dict(self._timeout_extension)
            if request.timeout is None
            else timeout_phases(request.timeout)
        )
        built: httpx.Request = lib.Request(
            request.method,
            url,
            headers=headers,
            stream=lib.ByteStream(b"" if content is None else content),
            extensions={"timeout": timeout},
        )
        if content is not None and not sets.sets_length:
            built.headers["Content-Length"] = str(len(content))
        built.read()
        return built

    def _build_with_client(self, request: HttpRequest, content: bytes | None) -> httpx.Request:
        """The general path: ``client.build_request`` merges base URL, query, cookies and headers."""
        headers = dict(self._headers)
        headers.update(allowed_request_headers(request.headers))
        timeout = (
            self._timeout
            if request.timeout is None
            else self._lib.Timeout(**timeout_phases(request.timeout))
        )
        built = self._client.build_request(
            request.method,
            self._base_url + request.path,
            content=content,
            params=dict(request.params) if request.params else None,
            headers=headers,
            timeout=timeout,
        )
        if content is not None:  # after Content-Length, as httpx's json= adds them
            built.headers["Content-Type"] = "application/json"
        return built

    def _url(self, path: str) -> httpx.URL:
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= _URL_CACHE_SIZE:
                self._urls.clear()
            url = self._urls[path] = self._lib.URL(self._base_url + path)
        return url


_URL_CACHE_SIZE = 256


_JSON_ONLY: dict[str, str] = {"Content-Type": "application/json"}
_JSON_FRAMING: dict[str, str] = {"Content-Length": "0", **_JSON_ONLY}
"""Body headers in the order httpx's ``json=`` adds them (``Content-Length`` first, its value
replaced in place per request), so the request bytes match a plain ``httpx`` JSON POST."""


class _HeaderSets:
    """The merged request headers of one client, with and without a JSON body.

    Built the way ``client.build_request`` merges them (client headers, then the SDK's, later
    names replacing earlier ones) plus the ``Host`` header the request would add, and rebuilt
    whenever the SDK's or the HTTP client's headers change.
    """

    __slots__ = ("_client_raw", "_lib", "_own", "json", "plain", "sets_length")

    def __init__(
        self,
        *,
        lib: ModuleType,
        own: Mapping[str, str] | None,
        client_raw: list[tuple[bytes, bytes]] | None,
        plain: httpx.Headers,
        json: httpx.Headers,
        sets_length: bool,
    ) -> None:
        self._lib = lib
        self._own = own
        self._client_raw = client_raw
        self.plain = plain
        self.json = json
        self.sets_length = sets_length

    @classmethod
    def empty(cls, lib: ModuleType) -> _HeaderSets:
        return cls(
            lib=lib,
            own=None,
            client_raw=None,
            plain=lib.Headers(),
            json=lib.Headers(),
            sets_length=False,
        )

    @classmethod
    def merge(
        cls,
        lib: ModuleType,
        own: Mapping[str, str],
        client_headers: httpx.Headers,
        url: httpx.URL,
    ) -> _HeaderSets:
        def merged(extra: Mapping[str, str]) -> httpx.Headers:
            headers: httpx.Headers = lib.Headers(client_headers)
            headers.update({**own, **extra})
            if "Host" not in headers and url.host:
                headers = lib.Headers([(b"Host", url.netloc), *headers.raw])
            return headers

        plain = merged({})
        sets_length = "Content-Length" in plain or "Transfer-Encoding" in plain
        return cls(
            lib=lib,
            own=own,
            client_raw=client_headers.raw,
            plain=plain,
            json=merged(_JSON_ONLY if sets_length else _JSON_FRAMING),
            sets_length=sets_length,
        )

    def valid_for(self, own: Mapping[str, str], client_headers: httpx.Headers) -> bool:
        return own is self._own and client_headers.raw == self._client_raw

    def for_request(self, extra: Mapping[str, str] | None, *, has_body: bool) -> httpx.Headers:
        """The headers of one request (the request copies them): shared unless ``extra``."""
        base = self.json if has_body else self.plain
        if not extra:
            return base
        headers: httpx.Headers = self._lib.Headers(self.plain)
        headers.update(extra)
        if has_body:
            headers.update(_JSON_ONLY if self.sets_length else _JSON_FRAMING)
        return headers


class SyncTransport(_TransportBase[httpx.Client]):
    """Blocking transport over one pooled ``httpx.Client`` (or ``httpx2.Client``)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: object,
        http_client: object = None,
        max_concurrency: int,
        owner: str = "Noukai",
    ) -> None:
        super().__init__(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            http_client=http_client,
            kind="sync",
            owner=owner,
            max_concurrency=max_concurrency,
        )
        self._slots = threading.BoundedSemaphore(max_concurrency)

    def _take_slot(self, request: HttpRequest) -> None:
        if self._slots.acquire(blocking=False):
            return
        wait = self._slot_wait(request)
        if not self._slots.acquire(timeout=wait):
            raise self._no_slot(wait)

    def send(self, request: HttpRequest) -> HttpResponse:
        built = self._build(request)
        self._take_slot(request)
        try:
            response = self._client.send(built, **self._send_options)
            try:
                content = response.read()
            finally:
                response.close()
        except self._request_error as exc:
            raise _connection_error(exc) from exc
        finally:
            self._slots.release()
        return HttpResponse(response.status_code, dict(response.headers.items()), content)

    def open_stream(self, request: HttpRequest) -> _SyncStream:
        built = self._build(request)
        self._take_slot(request)
        try:
            response = self._client.send(built, stream=True, **self._send_options)
        except BaseException as exc:
            self._slots.release()
            if isinstance(exc, self._request_error):
                raise _connection_error(exc) from exc
            raise
        return _SyncStream(response, self._request_error, self._slots.release)

    def close(self) -> None:
        """Release the connection pool (only when the SDK created the HTTP client); idempotent."""
        if not self._closed:
            self._closed = True
            if self._owns_client:
                self._client.close()


class AsyncTransport(_TransportBase[httpx.AsyncClient]):
    """asyncio transport over one pooled ``httpx.AsyncClient`` (or ``httpx2.AsyncClient``)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: object,
        http_client: object = None,
        max_concurrency: int,
        owner: str = "AsyncNoukai",
    ) -> None:
        import asyncio

        super().__init__(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            http_client=http_client,
            kind="async",
            owner=owner,
            max_concurrency=max_concurrency,
        )
        # Binds to an event loop only when a task first has to wait for a slot.
        self._slots = asyncio.BoundedSemaphore(max_concurrency)

    async def _take_slot(self, request: HttpRequest) -> None:
        slots = self._slots
        if not slots.locked():
            await slots.acquire()  # a free slot: returns without suspending
            return
        import asyncio

        wait = self._slot_wait(request)
        try:
            await asyncio.wait_for(slots.acquire(), wait)
        except asyncio.TimeoutError:
            raise self._no_slot(wait) from None

    async def send(self, request: HttpRequest) -> HttpResponse:
        built = self._build(request)
        await self._take_slot(request)
        try:
            response = await self._client.send(built, **self._send_options)
            try:
                content = await response.aread()
            finally:
                await response.aclose()
        except self._request_error as exc:
            raise _connection_error(exc) from exc
        finally:
            self._slots.release()
        return HttpResponse(response.status_code, dict(response.headers.items()), content)

    async def open_stream(self, request: HttpRequest) -> _AsyncStream:
        built = self._build(request)
        await self._take_slot(request)
        try:
            response = await self._client.send(built, stream=True, **self._send_options)
        except BaseException as exc:
            self._slots.release()
            if isinstance(exc, self._request_error):
                raise _connection_error(exc) from exc
            raise
        return _AsyncStream(response, self._request_error, self._slots.release)

    async def aclose(self) -> None:
        """Release the connection pool (only when the SDK created the HTTP client); idempotent."""
        if not self._closed:
            self._closed = True
            if self._owns_client:
                await self._client.aclose()


def _reads_raw(response: httpx.Response) -> bool:
    """Whether the body can be read as it arrives: unencoded and not already read (mocks)."""
    if response.is_stream_consumed:
        return False
    encoding = response.headers.get("content-encoding")
    return not encoding or encoding.strip().lower() == "identity"


class _SyncStream:
    """An open streaming response: its head, then body chunks until ``b""``.

    An unencoded body (what event streams are) is read with ``iter_raw()``: the chunks exactly as
    the connection delivers them, without the decoder and re-chunking layers of ``iter_bytes()``.
    The stream holds one of the transport's slots until it is closed.
    """

    __slots__ = ("_chunks", "_release", "_request_error", "_response", "head")

    def __init__(
        self,
        response: httpx.Response,
        request_error: type[Exception],
        release: Callable[[], None],
    ) -> None:
        self._response = response
        self._request_error = request_error
        self._release: Callable[[], None] | None = release
        self._chunks: Iterator[bytes] = (
            response.iter_raw() if _reads_raw(response) else response.iter_bytes()
        )
        self.head = StreamHead(response.status_code, dict(response.headers.items()))

    def read(self) -> bytes:
        try:
            return next(self._chunks, b"")  # httpx's iterators never yield an empty chunk
        except self._request_error as exc:
            raise _connection_error(exc) from exc

    def close(self) -> None:
        release, self._release = self._release, None
        try:
            self._response.close()
        except self._request_error as exc:
            raise _connection_error(exc) from exc
        finally:
            if release is not None:
                release()


class _AsyncStream:
    """An open asyncio streaming response: its head, then body chunks until ``b""``.

    Read like :class:`_SyncStream` (``aiter_raw()`` for an unencoded body); holds one slot until
    closed.
    """

    __slots__ = ("_chunks", "_release", "_request_error", "_response", "head")

    def __init__(
        self,
        response: httpx.Response,
        request_error: type[Exception],
        release: Callable[[], None],
    ) -> None:
        self._response = response
        self._request_error = request_error
        self._release: Callable[[], None] | None = release
        self._chunks: AsyncIterator[bytes] = (
            response.aiter_raw() if _reads_raw(response) else response.aiter_bytes()
        )
        self.head = StreamHead(response.status_code, dict(response.headers.items()))

    async def read(self) -> bytes:
        try:
            return await anext(self._chunks, b"")  # httpx's iterators never yield an empty chunk
        except self._request_error as exc:
            raise _connection_error(exc) from exc

    async def aclose(self) -> None:
        release, self._release = self._release, None
        try:
            await self._response.aclose()
        except self._request_error as exc:
            raise _connection_error(exc) from exc
        finally:
            if release is not None:
                release()


def _connection_error(exc: Exception) -> APIConnectionError:
    """The SDK's error for a request failure of httpx or httpx2 (the one mapping; callers chain).

    Both libraries name their exception classes alike, so the class names along the exception's
    hierarchy decide: timeouts become :class:`APITimeoutError`, everything else
    :class:`APIConnectionError`; connect failures are marked as never having reached the server.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    reached = names.isdisjoint(_NOT_SENT_NAMES)
    kind = type(exc).__name__
    text = str(exc) or kind
    if "TimeoutException" in names:
        return APITimeoutError(f"Request timed out ({kind}): {text}", reached_server=reached)
    return APIConnectionError(f"Connection error ({kind}): {text}", reached_server=reached)


def _check_client(client: object, library: ModuleType, kind: str, owner: str) -> None:
    """``owner`` names the class and, after a colon, the argument (``"Noukai:http_client="``)."""
    expected = "Client" if kind == "sync" else "AsyncClient"
    if not isinstance(client, getattr(library, expected)):
        name, _, argument = owner.partition(":")
        raise TypeError(
            f"{argument or 'http_client='} must be an httpx.{expected} for {name} "
            f"(or an httpx2.{expected}), got {type(client).__module__}.{type(client).__name__}"
        )


__all__: list[str] = ["AsyncTransport", "SyncTransport", "user_agent"]
