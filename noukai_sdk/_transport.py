"""The only module that talks to httpx: turns :class:`HttpRequest` values into real traffic.

``SyncTransport``/``AsyncTransport`` implement ``SyncIO``/``AsyncIO`` of :mod:`noukai_sdk._effects`.
They add the constant headers (built once per client), serialise bodies, apply timeouts, and map
every httpx failure — while sending, opening a stream or reading one — to
:class:`APIConnectionError`/:class:`APITimeoutError` in :func:`_mapped_httpx_errors`, one place.
"""

from __future__ import annotations

import json
import platform
from collections.abc import AsyncIterator, Generator, Iterator, Mapping
from contextlib import contextmanager

import httpx

from noukai_sdk._constants import API_VERSION, API_VERSION_HEADER, RESERVED_HEADERS
from noukai_sdk._errors import APIConnectionError, APITimeoutError
from noukai_sdk._http_types import HttpRequest, HttpResponse, StreamHead
from noukai_sdk._version import __version__

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def user_agent() -> str:
    """``noukai-python/<sdk> (httpx/<v>; python/<x.y.z>; <OS>)`` as CONTRACT §2.1 specifies."""
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
    """Per-request headers minus the reserved ones (CONTRACT §2.3), compared case-insensitively."""
    return {k: v for k, v in headers.items() if k.lower() not in RESERVED_HEADERS}


def as_httpx_timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)


def is_timeout(value: object) -> bool:
    """Whether ``value`` is an ``httpx.Timeout`` (lets other modules check without importing httpx)."""
    return isinstance(value, httpx.Timeout)


class _TransportBase:
    """State and request building shared by both transports."""

    def __init__(self, *, base_url: str, api_key: str, timeout: float | httpx.Timeout) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = constant_headers(api_key)
        self._timeout = as_httpx_timeout(timeout)
        self._closed = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    def _build(
        self, client: httpx.Client | httpx.AsyncClient, request: HttpRequest
    ) -> httpx.Request:
        if self._closed:
            raise RuntimeError("This Noukai client has been closed.")
        headers = dict(self._headers)
        headers.update(allowed_request_headers(request.headers))
        content: bytes | None = None
        if request.json is not None:
            content = json.dumps(
                request.json, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
            headers["Content-Type"] = "application/json"
        timeout = self._timeout if request.timeout is None else as_httpx_timeout(request.timeout)
        return client.build_request(
            request.method,
            self._base_url + request.path,
            content=content,
            params=dict(request.params) if request.params else None,
            headers=headers,
            timeout=timeout,
        )


class SyncTransport(_TransportBase):
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
        built = self._build(self._client, request)
        with _mapped_httpx_errors():
            response = self._client.send(built)
            try:
                content = response.read()
            finally:
                response.close()
        return HttpResponse(response.status_code, _lowered(response.headers), content)

    def open_stream(self, request: HttpRequest) -> _SyncStream:
        built = self._build(self._client, request)
        with _mapped_httpx_errors():
            response = self._client.send(built, stream=True)
        return _SyncStream(response)

    def close(self) -> None:
        """Release the connection pool (only when the SDK created the httpx client); idempotent."""
        if not self._closed:
            self._closed = True
            if self._owns_client:
                self._client.close()


class AsyncTransport(_TransportBase):
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
        built = self._build(self._client, request)
        with _mapped_httpx_errors():
            response = await self._client.send(built)
            try:
                content = await response.aread()
            finally:
                await response.aclose()
        return HttpResponse(response.status_code, _lowered(response.headers), content)

    async def open_stream(self, request: HttpRequest) -> _AsyncStream:
        built = self._build(self._client, request)
        with _mapped_httpx_errors():
            response = await self._client.send(built, stream=True)
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
        self.head = StreamHead(response.status_code, _lowered(response.headers))

    def read(self) -> bytes:
        with _mapped_httpx_errors():
            for chunk in self._chunks:
                if chunk:
                    return chunk
        return b""

    def close(self) -> None:
        with _mapped_httpx_errors():
            self._response.close()


class _AsyncStream:
    """An open asyncio streaming response: its head, then body chunks until ``b""``."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks: AsyncIterator[bytes] = response.aiter_bytes()
        self.head = StreamHead(response.status_code, _lowered(response.headers))

    async def read(self) -> bytes:
        with _mapped_httpx_errors():
            async for chunk in self._chunks:
                if chunk:
                    return chunk
        return b""

    async def aclose(self) -> None:
        with _mapped_httpx_errors():
            await self._response.aclose()


@contextmanager
def _mapped_httpx_errors() -> Generator[None, None, None]:
    """Translate httpx request failures into the SDK's connection errors (the one mapping)."""
    try:
        yield
    except httpx.RequestError as exc:
        reached = not isinstance(exc, _NOT_SENT)
        text = str(exc) or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            raise APITimeoutError(
                f"Request timed out ({type(exc).__name__}): {text}", reached_server=reached
            ) from exc
        raise APIConnectionError(
            f"Connection error ({type(exc).__name__}): {text}", reached_server=reached
        ) from exc


def _check_client(client: object, expected: type[object], owner: str) -> None:
    if client is not None and not isinstance(client, expected):
        raise TypeError(f"http_client= must be an httpx.{expected.__name__} for {owner}")


def _lowered(headers: httpx.Headers) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


__all__: list[str] = ["AsyncTransport", "SyncTransport", "user_agent"]
