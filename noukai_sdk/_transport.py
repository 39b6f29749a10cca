"""The only module that talks to httpx: turns :class:`HttpRequest` values into real traffic.

``SyncTransport``/``AsyncTransport`` implement ``SyncIO``/``AsyncIO`` of :mod:`noukai_sdk._core.effects`.
They add the constant headers (built once per client), serialise bodies, apply timeouts, and map
every httpx failure — while sending, opening a stream or reading one — to
:class:`APIConnectionError`/:class:`APITimeoutError` in :func:`_connection_error`, one place.
"""

from __future__ import annotations

import json
import platform
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Generic, TypeVar

import httpx

from noukai_sdk._core.constants import API_VERSION, API_VERSION_HEADER, RESERVED_HEADERS
from noukai_sdk._core.errors import APIConnectionError, APITimeoutError
from noukai_sdk._core.http_types import HttpRequest, HttpResponse, StreamHead
from noukai_sdk._version import __version__

ClientT = TypeVar("ClientT", httpx.Client, httpx.AsyncClient)

_SEND_OPTIONS: dict[str, Any] = {"auth": None, "follow_redirects": False}
"""Overrides of an injected client's ``auth`` and ``follow_redirects``: the SDK's bearer key is the
only credential sent, and a redirect never takes a request (or the key) away from the base URL.
A transport built without a key (the relay client talking to the user's own server) keeps the
injected client's settings."""

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def user_agent() -> str:
    """``noukai-python/<sdk> (httpx/<v>; python/<x.y.z>; <OS>)``: the server tells SDKs apart by it."""
    return (
        f"noukai-python/{__version__} (httpx/{httpx.__version__}; "
        f"python/{platform.python_version()}; {platform.system() or 'Unknown'})"
    )


def constant_headers(api_key: str) -> dict[str, str]:
    """Headers sent on every request; built once per client."""
    return {
        "Authorization": f"Bearer {api_key}",
        API_VERSION_HEADER: API_VERSION,
        "User-Agent": user_agent(),
        "Accept": "application/json",
    }


def allowed_request_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Per-request headers minus the reserved ones, compared case-insensitively."""
    return {k: v for k, v in headers.items() if k.lower() not in RESERVED_HEADERS}


_LONGEST_TIMEOUT = 1e8
"""Seconds (about three years): longer timeouts, ``inf`` included, mean the same and are clamped
to this, because the blocking socket layer overflows on them."""


def as_httpx_timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(min(timeout, _LONGEST_TIMEOUT))


def is_timeout(value: object) -> bool:
    """Whether ``value`` is an ``httpx.Timeout`` (lets other modules check without importing httpx)."""
    return isinstance(value, httpx.Timeout)


class _TransportBase(Generic[ClientT]):
    """State and request building shared by both transports.

    Building an ``httpx.Request`` through ``client.build_request`` re-parses the URL and re-merges
    every header on each call. Here the parsed URL of each path and the merged header set (the
    client's own headers, then the SDK's) are kept, so a request costs a header copy plus its
    ``Content-Length``. Requests with a query string, and clients holding cookies or default
    query parameters, take ``build_request`` as before.
    """

    _client: ClientT

    def __init__(self, *, base_url: str, api_key: str, timeout: float | httpx.Timeout) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = constant_headers(api_key)
        self._send_options: dict[str, Any] = _SEND_OPTIONS if api_key else {}
        self._timeout = as_httpx_timeout(timeout)
        self._timeout_extension = self._timeout.as_dict()
        self._urls: dict[str, httpx.URL] = {}
        self._header_sets = _HeaderSets.empty()
        self._closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    def _build(self, request: HttpRequest) -> httpx.Request:
        if self._closed:
            raise RuntimeError("This Noukai client has been closed.")
        client = self._client
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
            sets = self._header_sets = _HeaderSets.merge(self._headers, client.headers, url)
        extra = allowed_request_headers(request.headers) if request.headers else None
        headers = sets.for_request(extra, has_body=content is not None)
        timeout = (
            dict(self._timeout_extension)
            if request.timeout is None
            else as_httpx_timeout(request.timeout).as_dict()
        )
        built = httpx.Request(
            request.method,
            url,
            headers=headers,
            stream=httpx.ByteStream(b"" if content is None else content),
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
        timeout = self._timeout if request.timeout is None else as_httpx_timeout(request.timeout)
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
            url = self._urls[path] = httpx.URL(self._base_url + path)
        return url


_URL_CACHE_SIZE = 256


_JSON_ONLY: dict[str, str] = {"Content-Type": "application/json"}
_JSON_FRAMING: dict[str, str] = {"Content-Length": "0", **_JSON_ONLY}
"""Body headers in the order httpx's ``json=`` adds them (``Content-Length`` first, its value
replaced in place per request), so the request bytes match a plain ``httpx`` JSON POST."""


class _HeaderSets:
    """The merged request headers of one client, with and without a JSON body.

    Built the way ``client.build_request`` merges them (client headers, then the SDK's, later
    names replacing earlier ones) plus the ``Host`` header ``httpx.Request`` would add, and
    rebuilt whenever the SDK's or the httpx client's headers change.
    """

    __slots__ = ("_client_raw", "_own", "json", "plain", "sets_length")

    def __init__(
        self,
        *,
        own: Mapping[str, str] | None,
        client_raw: list[tuple[bytes, bytes]] | None,
        plain: httpx.Headers,
        json: httpx.Headers,
        sets_length: bool,
    ) -> None:
        self._own = own
        self._client_raw = client_raw
        self.plain = plain
        self.json = json
        self.sets_length = sets_length

    @classmethod
    def empty(cls) -> _HeaderSets:
        return cls(
            own=None,
            client_raw=None,
            plain=httpx.Headers(),
            json=httpx.Headers(),
            sets_length=False,
        )

    @classmethod
    def merge(
        cls, own: Mapping[str, str], client_headers: httpx.Headers, url: httpx.URL
    ) -> _HeaderSets:
        def merged(extra: Mapping[str, str]) -> httpx.Headers:
            headers = httpx.Headers(client_headers)
            headers.update({**own, **extra})
            if "Host" not in headers and url.host:
                headers = httpx.Headers([(b"Host", url.netloc), *headers.raw])
            return headers

        plain = merged({})
        sets_length = "Content-Length" in plain or "Transfer-Encoding" in plain
        return cls(
            own=own,
            client_raw=client_headers.raw,
            plain=plain,
            json=merged(_JSON_ONLY if sets_length else _JSON_FRAMING),
            sets_length=sets_length,
        )

    def valid_for(self, own: Mapping[str, str], client_headers: httpx.Headers) -> bool:
        return own is self._own and client_headers.raw == self._client_raw

    def for_request(self, extra: Mapping[str, str] | None, *, has_body: bool) -> httpx.Headers:
        """The headers of one request (``httpx.Request`` copies them): shared unless ``extra``."""
        base = self.json if has_body else self.plain
        if not extra:
            return base
        headers = httpx.Headers(self.plain)
        headers.update(extra)
        if has_body:
            headers.update(_JSON_ONLY if self.sets_length else _JSON_FRAMING)
        return headers


class SyncTransport(_TransportBase[httpx.Client]):
    """Blocking transport over one pooled ``httpx.Client``."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float | httpx.Timeout,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(base_url=base_url, api_key=api_key, timeout=timeout)
        _check_client(http_client, httpx.Client, "Noukai")
        self._owns_client = http_client is None
        self._client = http_client if http_client is not None else httpx.Client()

    def send(self, request: HttpRequest) -> HttpResponse:
        built = self._build(request)
        try:
            response = self._client.send(built, **self._send_options)
            try:
                content = response.read()
            finally:
                response.close()
        except httpx.RequestError as exc:
            raise _connection_error(exc) from exc
        return HttpResponse(response.status_code, dict(response.headers.items()), content)

    def open_stream(self, request: HttpRequest) -> _SyncStream:
        built = self._build(request)
        try:
            response = self._client.send(built, stream=True, **self._send_options)
        except httpx.RequestError as exc:
            raise _connection_error(exc) from exc
        return _SyncStream(response)

    def close(self) -> None:
        """Release the connection pool (only when the SDK created the httpx client); idempotent."""
        if not self._closed:
            self._closed = True
            if self._owns_client:
                self._client.close()


class AsyncTransport(_TransportBase[httpx.AsyncClient]):
    """asyncio transport over one pooled ``httpx.AsyncClient``."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        timeout: float | httpx.Timeout,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url=base_url, api_key=api_key, timeout=timeout)
        _check_client(http_client, httpx.AsyncClient, "AsyncNoukai")
        self._owns_client = http_client is None
        self._client = http_client if http_client is not None else httpx.AsyncClient()

    async def send(self, request: HttpRequest) -> HttpResponse:
        built = self._build(request)
        try:
            response = await self._client.send(built, **self._send_options)
            try:
                content = await response.aread()
            finally:
                await response.aclose()
        except httpx.RequestError as exc:
            raise _connection_error(exc) from exc
        return HttpResponse(response.status_code, dict(response.headers.items()), content)

    async def open_stream(self, request: HttpRequest) -> _AsyncStream:
        built = self._build(request)
        try:
            response = await self._client.send(built, stream=True, **self._send_options)
        except httpx.RequestError as exc:
            raise _connection_error(exc) from exc
        return _AsyncStream(response)

    async def aclose(self) -> None:
        """Release the connection pool (only when the SDK created the httpx client); idempotent."""
        if not self._closed:
            self._closed = True
            if self._owns_client:
                await self._client.aclose()


class _SyncStream:
    """An open streaming response: its head, then body chunks until ``b""``."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks: Iterator[bytes] = response.iter_bytes()
        self.head = StreamHead(response.status_code, dict(response.headers.items()))

    def read(self) -> bytes:
        try:
            for chunk in self._chunks:
                if chunk:
                    return chunk
        except httpx.RequestError as exc:
            raise _connection_error(exc) from exc
        return b""

    def close(self) -> None:
        try:
            self._response.close()
        except httpx.RequestError as exc:
            raise _connection_error(exc) from exc


class _AsyncStream:
    """An open asyncio streaming response: its head, then body chunks until ``b""``."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks: AsyncIterator[bytes] = response.aiter_bytes()
        self.head = StreamHead(response.status_code, dict(response.headers.items()))

    async def read(self) -> bytes:
        try:
            async for chunk in self._chunks:
                if chunk:
                    return chunk
        except httpx.RequestError as exc:
            raise _connection_error(exc) from exc
        return b""

    async def aclose(self) -> None:
        try:
            await self._response.aclose()
        except httpx.RequestError as exc:
            raise _connection_error(exc) from exc


def _connection_error(exc: httpx.RequestError) -> APIConnectionError:
    """The SDK's error for an httpx request failure (the one mapping; the caller chains ``exc``)."""
    reached = not isinstance(exc, _NOT_SENT)
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"Request timed out ({type(exc).__name__}): {text}", reached_server=reached
        )
    return APIConnectionError(
        f"Connection error ({type(exc).__name__}): {text}", reached_server=reached
    )


def _check_client(client: object, expected: type[object], owner: str) -> None:
    if client is not None and not isinstance(client, expected):
        raise TypeError(f"http_client= must be an httpx.{expected.__name__} for {owner}")


__all__: list[str] = ["AsyncTransport", "SyncTransport", "user_agent"]
