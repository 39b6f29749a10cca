"""Plain descriptions of HTTP requests and responses, free of any HTTP library.

Protocol code builds an :class:`HttpRequest` and receives an :class:`HttpResponse`; only
``_transport.py`` turns them into real traffic. Keeping them library-free is what lets the
retry, tool-call, job and step protocols be written once for the sync and async clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


class PhaseTimeouts(Protocol):
    """What ``httpx.Timeout`` and ``httpx2.Timeout`` both are: seconds per phase.

    Public signatures name this protocol instead of either class, so that a type checker needs
    neither library installed to know the type (httpx2 is optional), and either one fits.
    """

    @property
    def connect(self) -> float | None: ...

    @property
    def read(self) -> float | None: ...

    @property
    def write(self) -> float | None: ...

    @property
    def pool(self) -> float | None: ...


Method = Literal["GET", "POST"]
Timeout = float | PhaseTimeouts | None
"""A ``timeout=`` argument: seconds, an ``httpx.Timeout`` or ``httpx2.Timeout`` (either works with
either library; the transport converts), or ``None`` for the client default."""
TimeoutValue = float | PhaseTimeouts
"""A timeout that is set (a client's default)."""


def library_of(value: object) -> str | None:
    """``"httpx"`` or ``"httpx2"`` when ``value`` is an object of that library, told without
    importing either (a user's subclass counts as its base's library)."""
    for cls in type(value).__mro__:
        root = cls.__module__.partition(".")[0]
        if root in ("httpx", "httpx2"):
            return root
    return None


def is_timeout(value: object) -> bool:
    """Whether ``value`` is an ``httpx.Timeout`` or an ``httpx2.Timeout``."""
    return library_of(value) is not None and any(
        cls.__name__ == "Timeout" for cls in type(value).__mro__
    )


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One logical request, relative to the client's base URL.

    ``path`` starts with ``/`` and is already percent-encoded. ``json`` is the body as the JSON
    value to send (wire names), ``None`` for no body. ``headers`` holds per-request headers only
    (e.g. ``X-Session-Id``); the transport adds the constant ones. ``timeout`` ``None`` means the
    client default. ``streaming`` asks for a body read incrementally (SSE).
    """

    method: Method
    path: str
    json: Any = None
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=lambda: _NO_HEADERS)
    timeout: Timeout = None
    streaming: bool = False

    @property
    def idempotent(self) -> bool:
        """GETs may be retried on server errors; POSTs only when they never reached the server."""
        return self.method == "GET"


_NO_HEADERS: Mapping[str, str] = {}


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete (non-streaming) response: status, lower-cased headers and raw body bytes."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)
    """What to mask if this body is ever shown in an error (the API key); set by the request loop."""

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-request-id")


@dataclass(frozen=True, slots=True)
class StreamHead:
    """Status and lower-cased headers of a streaming response whose body is still unread."""

    status_code: int
    headers: Mapping[str, str]

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-request-id")
