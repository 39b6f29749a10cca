"""The relay route's logic, shared by the Starlette and Flask adapters.

A relay answers a keyless caller's ``POST`` in a fixed order (CONTRACT §19.7.3): read the body
under a byte cap, parse it as a JSON object, check the message counts, let the app authorise the
request, then forward it to the pinned flow's ``/execute`` with the client's key and return the
upstream status and body (§19.7.5). Everything except reading the body and calling
``authorize`` is framework-free here; forwarding is a sans-IO protocol driven by the client's own
transport, so retries, logging, redaction and error mapping are the SDK's usual ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast
from typing import Protocol as TypingProtocol

from noukai_sdk._core.effects import Protocol
from noukai_sdk._core.errors import APIConnectionError, NoukaiError, RateLimitError, parse_body
from noukai_sdk._core.paths import FlowAddress
from noukai_sdk._core.requesting import RequestContext, send_with_retries
from noukai_sdk_generated.models import ErrorBody, ExecuteRequest

DEFAULT_RELAY_PATH = "/agent/execute"
DEFAULT_MAX_BODY_BYTES = 262_144
DEFAULT_MAX_MESSAGES = 40
TRACE_CONTEXT_HEADERS = ("traceparent", "tracestate")
"""The only inbound headers a relay forwards upstream (W3C trace context)."""

READ_CHUNK_BYTES = 65_536
_COUNTED_FIELDS = tuple(
    ExecuteRequest.model_fields[name].alias or name for name in ("messages", "tool_call_messages")
)
_DETAIL = ErrorBody.model_fields["detail"].alias or "detail"
_REQUEST_ID_HEADER = "X-Request-ID"
_RETRY_AFTER_HEADER = "Retry-After"


@dataclass(frozen=True, slots=True)
class RelayBounds:
    """Limits a relay enforces before anything is forwarded (or authorised)."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """Raw body cap in bytes; a body of exactly this size is accepted."""
    max_messages: int = DEFAULT_MAX_MESSAGES
    """Cap on the length of ``messages`` and of ``toolCallMessages``, each counted separately."""

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_messages"):
            value: object = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


@dataclass(frozen=True, slots=True)
class RelayReply:
    """What the relay answers: status, JSON body and the headers it relays."""

    status_code: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=lambda: dict[str, str]())

    def content(self) -> bytes:
        """The body as compact UTF-8 JSON with its key order kept."""
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _refusal(status_code: int, detail: str) -> RelayReply:
    return RelayReply(status_code, {_DETAIL: detail})


BODY_TOO_LARGE = _refusal(413, "BODY_TOO_LARGE")
TOO_MANY_MESSAGES = _refusal(413, "TOO_MANY_MESSAGES")
INVALID_JSON = _refusal(400, "INVALID_JSON")
UPSTREAM_NON_JSON = "UPSTREAM_NON_JSON"
UPSTREAM_UNAVAILABLE = _refusal(502, "UPSTREAM_UNAVAILABLE")


class RelayRefused(Exception):
    """The request is answered by the relay itself (400/413), before authorisation."""

    def __init__(self, reply: RelayReply) -> None:
        super().__init__(reply.body)
        self.reply = reply


class BodyReader:
    """Collects a request body chunk by chunk and says stop as soon as it exceeds the cap."""

    __slots__ = ("_chunks", "_limit", "_size")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._size = 0
        self._chunks: list[bytes] = []

    def feed(self, chunk: bytes) -> None:
        """Add ``chunk``; raises :class:`RelayRefused` (413) once the total is over the cap."""
        self._size += len(chunk)
        if self._size > self._limit:
            raise RelayRefused(BODY_TOO_LARGE)
        self._chunks.append(chunk)

    def body(self) -> bytes:
        return b"".join(self._chunks)


def parse_payload(raw: bytes, bounds: RelayBounds) -> dict[str, Any]:
    """The body as a JSON object within the message caps, or :class:`RelayRefused`.

    Empty means ``{}``. Encodings are UTF-8/16/32 (detected from the bytes). ``NaN`` and
    ``Infinity`` are refused here as invalid JSON, because they could not be forwarded.
    """
    if not raw:
        return {}
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise RelayRefused(INVALID_JSON) from None
    if not isinstance(value, dict):
        raise RelayRefused(INVALID_JSON)
    payload = cast("dict[str, Any]", value)
    for name in _COUNTED_FIELDS:
        entries: object = payload.get(name)
        if isinstance(entries, list) and len(entries) > bounds.max_messages:  # pyright: ignore[reportUnknownArgumentType]
            raise RelayRefused(TOO_MANY_MESSAGES)
    return payload


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class HeaderLookup(TypingProtocol):
    """Case-insensitive inbound headers (Starlette's ``Headers``, Werkzeug's ``EnvironHeaders``)."""

    def get(self, key: str, /) -> str | None: ...


def trace_context(headers: HeaderLookup) -> dict[str, str]:
    """The inbound ``traceparent``/``tracestate`` that are present and non-empty."""
    found: dict[str, str] = {}
    for name in TRACE_CONTEXT_HEADERS:
        value = headers.get(name)
        if value:
            found[name] = value
    return found


@dataclass(frozen=True, slots=True)
class FlowRelay:
    """One relay route: the pinned flow and version, and the bounds it enforces."""

    address: FlowAddress
    version: int | None
    bounds: RelayBounds

    def forward(
        self, payload: dict[str, Any], trace_headers: Mapping[str, str], ctx: RequestContext
    ) -> Protocol[RelayReply]:
        """POST ``payload`` to the flow's ``/execute`` and turn the outcome into the reply.

        Never sends ``X-Session-Id``; the only inbound headers forwarded are ``trace_headers``.
        """
        request = self.address.operation_request(
            "execute", version=self.version, body=payload, session_id=None, timeout=None
        )
        if trace_headers:
            request = replace(request, headers={**request.headers, **trace_headers})
        try:
            response = yield from send_with_retries(request, ctx)
        except APIConnectionError:
            return UPSTREAM_UNAVAILABLE
        except NoukaiError as error:
            if error.status_code is None:
                raise
            return upstream_reply(
                error.status_code,
                error.response_body,
                request_id=error.request_id,
                retry_after=error.retry_after if isinstance(error, RateLimitError) else None,
            )
        return upstream_reply(
            response.status_code, parse_body(response.content), request_id=response.request_id
        )


def upstream_reply(
    status_code: int, body: Any, *, request_id: str | None, retry_after: float | None = None
) -> RelayReply:
    """Upstream's status with its JSON object/array body (else ``UPSTREAM_NON_JSON``).

    ``X-Request-ID`` is relayed so a caller can quote it; so is ``Retry-After`` on a 429.
    """
    headers: dict[str, str] = {}
    if request_id:
        headers[_REQUEST_ID_HEADER] = request_id
    if retry_after is not None:
        headers[_RETRY_AFTER_HEADER] = str(math.ceil(retry_after))
    if not isinstance(body, (dict, list)):
        body = {_DETAIL: UPSTREAM_NON_JSON}
    return RelayReply(status_code, body, headers)


def check_registration(
    client: object, *, expected: type[object], adapter: str, authorize: object
) -> None:
    """Fail when the route is registered, not at its first request."""
    if not isinstance(client, expected):
        raise TypeError(f"{adapter} needs client={expected.__name__}(...); got {client!r}.")
    if not callable(authorize):
        raise TypeError(f"{adapter} needs authorize= to be a callable; got {authorize!r}.")
