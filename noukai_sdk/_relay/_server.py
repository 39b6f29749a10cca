"""The relay route's logic, shared by the Starlette and Flask adapters.

A relay answers a keyless caller's ``POST`` in a fixed order: read the body under a byte cap,
parse it as a JSON object, keep only the allowed fields (every spelling the API accepts) within
the message caps, let the app authorise the request (a falsy answer denies), check a resume's
token, then forward it to the pinned flow's ``/execute`` with the client's key and return the
upstream status and body, a paused reply carrying a fresh resume token. Everything except
reading the body and calling ``authorize`` is framework-free here; forwarding is a sans-IO
protocol driven by the client's own transport, so retries, logging, redaction and error mapping
are the SDK's usual ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from noukai_sdk._core.effects import Steps
from noukai_sdk._core.errors import APIConnectionError, NoukaiError, RateLimitError, parse_body
from noukai_sdk._core.paths import FlowAddress
from noukai_sdk._core.requesting import RequestContext, send_with_retries
from noukai_sdk._relay._fields import (
    RESUME_TOKEN_FIELD,
    FieldRefusal,
    ScreenedBody,
    screen_fields,
)
from noukai_sdk._relay._fields import (
    TOO_MANY_MESSAGES as TOO_MANY_MESSAGES_DETAIL,
)
from noukai_sdk._relay._tokens import ResumeSigner
from noukai_sdk_generated.models import ErrorBody, PausedResult

DEFAULT_RELAY_PATH = "/agent/execute"
DEFAULT_MAX_BODY_BYTES = 262_144
DEFAULT_MAX_MESSAGES = 40

READ_CHUNK_BYTES = 65_536
_DETAIL = ErrorBody.model_fields["detail"].alias or "detail"
_FIELD = "field"
_STATUS = PausedResult.model_fields["status"].alias or "status"
_PAUSED_STATUS = PausedResult.model_fields["status"].default
_REQUEST_ID_HEADER = "X-Request-ID"
_RETRY_AFTER_HEADER = "Retry-After"


@dataclass(frozen=True, slots=True)
class RelayBounds:
    """Limits a relay enforces before anything is forwarded (or authorised)."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """Raw body cap in bytes; a body of exactly this size is accepted."""
    max_messages: int = DEFAULT_MAX_MESSAGES
    """Cap on the length of ``messages`` and of ``toolCallMessages`` (either spelling), each."""

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
TOO_MANY_MESSAGES = _refusal(413, TOO_MANY_MESSAGES_DETAIL)
INVALID_JSON = _refusal(400, "INVALID_JSON")
FORBIDDEN = _refusal(403, "FORBIDDEN")
RESUME_FORBIDDEN = _refusal(403, "RESUME_FORBIDDEN")
UPSTREAM_NON_JSON = "UPSTREAM_NON_JSON"
UPSTREAM_UNAVAILABLE = _refusal(502, "UPSTREAM_UNAVAILABLE")


class RelayRefused(Exception):
    """The request is answered by the relay itself (400/403/413) and never forwarded."""

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


def parse_payload(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or :class:`RelayRefused` (400 ``INVALID_JSON``).

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
    return cast("dict[str, Any]", value)


def _field_reply(refusal: FieldRefusal) -> RelayReply:
    if refusal.detail == TOO_MANY_MESSAGES_DETAIL:
        return TOO_MANY_MESSAGES
    return RelayReply(400, {_DETAIL: refusal.detail, _FIELD: refusal.field})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True, slots=True)
class FlowRelay:
    """One relay route: the pinned flow and version, its bounds, allow-list and token signer."""

    address: FlowAddress
    version: int | None
    bounds: RelayBounds
    allowed: frozenset[str]
    signer: ResumeSigner

    def screen(self, raw: bytes) -> ScreenedBody:
        """Parse the body and apply the allow-list and message caps (before ``authorize``)."""
        screened = screen_fields(parse_payload(raw), self.allowed, self.bounds.max_messages)
        if isinstance(screened, FieldRefusal):
            raise RelayRefused(_field_reply(screened))
        return screened

    def admit(self, body: ScreenedBody, decision: object) -> None:
        """Refuse unless ``authorize`` answered truthy and a resume carries its valid token."""
        if not decision:
            raise RelayRefused(FORBIDDEN)
        if body.is_resume and not self.signer.accepts(body.resume_token, body.forward):
            raise RelayRefused(RESUME_FORBIDDEN)

    def forward(
        self, body: ScreenedBody, trace_headers: Mapping[str, str], ctx: RequestContext
    ) -> Steps[RelayReply]:
        """POST the screened body to the flow's ``/execute`` and turn the outcome into the reply.

        Never sends ``X-Session-Id``; the only inbound headers forwarded are ``trace_headers``.
        A paused reply gets a resume token for that pause.
        """
        request = self.address.operation_request(
            "execute", version=self.version, body=body.forward, session_id=None, timeout=None
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
        reply = upstream_reply(
            response.status_code, parse_body(response.content), request_id=response.request_id
        )
        return self._with_resume_token(reply)

    def _with_resume_token(self, reply: RelayReply) -> RelayReply:
        body: object = reply.body
        if not isinstance(body, dict):
            return reply
        paused = cast("dict[str, Any]", body)
        if paused.get(_STATUS) != _PAUSED_STATUS:
            return reply
        token = self.signer.issue(paused)
        if token is None:
            return reply
        return replace(reply, body={**paused, RESUME_TOKEN_FIELD: token})


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
