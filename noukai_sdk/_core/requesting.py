"""The request protocols every API call goes through: retries, logging and error mapping.

``send_with_retries`` is the single loop for JSON requests and ``open_event_stream`` opens SSE
streams; both are sans-IO protocols (see :mod:`noukai_sdk._core.effects`) so the sync and async
clients share them. ``parse_model`` validates a 2xx body into a model, raising
:class:`APIResponseValidationError` instead of a bare pydantic error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from noukai_sdk._core.constants import DEFAULT_TIMEOUT, SESSION_ID_HEADER
from noukai_sdk._core.effects import CloseStream, Sleep, Steps, open_stream, read_stream, send
from noukai_sdk._core.errors import (
    APIConnectionError,
    APIResponseValidationError,
    NoukaiError,
    error_from_response,
    parse_body,
    redact_error,
)
from noukai_sdk._core.http_types import HttpRequest, HttpResponse, StreamHead, TimeoutValue
from noukai_sdk._core.log_hook import LogHook
from noukai_sdk._core.retry import RetryPolicy, parse_retry_after
from noukai_sdk._core.scope import active_scope

if TYPE_CHECKING:
    from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound="BaseModel")


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What request protocols need from their client: policy, log hook and defaults."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    log: LogHook = field(default_factory=lambda: LogHook(None))
    timeout: TimeoutValue = DEFAULT_TIMEOUT
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """Strings (the API key) masked out of every error message."""
    propagate: Callable[[], Mapping[str, str]] | None = field(default=None, repr=False)
    """Headers computed for each request as it is sent (W3C trace context when OpenTelemetry is
    on); ``None`` adds nothing."""

    @property
    def log_payloads(self) -> bool:
        return self.log.payloads


def send_with_retries(
    request: HttpRequest, ctx: RequestContext, *, deadline: Deadline | None = None
) -> Steps[HttpResponse]:
    """Send ``request``, retrying per ``ctx.retry``; return the 2xx response or raise the mapped error.

    With a ``deadline`` every attempt's timeout is bounded by the time left, and no retry is
    started that could not finish before it (used by ``Job.wait``).
    """
    log = ctx.log
    request = tagged(request, ctx)
    attempt = 0
    while True:
        sent = request if deadline is None else deadline.bound(request, ctx)
        if log.enabled:
            log.request(sent, attempt=attempt)
        try:
            response = yield from send(sent)
        except APIConnectionError as error:
            attempt = yield from _retry_after_failure(request, ctx, attempt, error, deadline)
            continue
        if log.enabled:
            log.response(
                request,
                status_code=response.status_code,
                request_id=response.request_id,
                attempt=attempt,
                content=response.content,
            )
        if 200 <= response.status_code < 300:
            if not ctx.secrets:
                return response
            # The constructor, not dataclasses.replace: this runs once per request, and
            # replace() looks every field up by name, then calls the constructor anyway.
            return HttpResponse(
                response.status_code, response.headers, response.content, secrets=ctx.secrets
            )
        attempt = yield from _retry_after_status(
            request,
            ctx,
            attempt,
            response.status_code,
            response.headers,
            response.content,
            deadline,
        )


@dataclass(frozen=True, slots=True)
class Deadline:
    """A point in time (``clock()`` seconds) a request and its retries must finish by."""

    at: float
    clock: Callable[[], float]

    def remaining(self) -> float:
        return self.at - self.clock()

    def bound(self, request: HttpRequest, ctx: RequestContext) -> HttpRequest:
        """``request`` with its timeout shortened to the time left (at least 1 ms)."""
        budget = max(self.remaining(), 0.001)
        current = request.timeout if request.timeout is not None else ctx.timeout
        if isinstance(current, (int, float)) and current <= budget:
            return request
        return replace(request, timeout=budget)


def _too_late(deadline: Deadline | None, delay: float) -> bool:
    """Whether the next retry's back-off (the very delay that will be slept) ends past the deadline."""
    return deadline is not None and delay >= deadline.remaining()


def open_event_stream(request: HttpRequest, ctx: RequestContext) -> Steps[StreamHead]:
    """Open a streaming request; on an error status read the body and raise the mapped error.

    Opening is retried under the same policy as a JSON request: a refused connect always (the
    request provably never left), a GET's retryable statuses and network errors too. A 2xx
    answer that is not an event stream (a captive portal's HTML, a JSON body) is an
    :class:`APIResponseValidationError`, never read as an empty stream.
    """
    request = tagged(request, ctx)
    attempt = 0
    while True:
        ctx.log.request(request, attempt=attempt)
        try:
            head = yield from open_stream(request)
        except APIConnectionError as error:
            attempt = yield from _retry_after_failure(request, ctx, attempt, error, None)
            continue
        ctx.log.response(
            request, status_code=head.status_code, request_id=head.request_id, attempt=attempt
        )
        if 200 <= head.status_code < 300:
            if not _is_event_stream(head):
                raise (yield from _not_an_event_stream(head, ctx))
            return head
        content = yield from _read_and_close(MAX_ERROR_BODY_BYTES)
        attempt = yield from _retry_after_status(
            request, ctx, attempt, head.status_code, head.headers, content, None
        )


MAX_ERROR_BODY_BYTES = 1 << 20
"""How much of an error or non-event-stream body is read for the error (a hostile server could
otherwise keep a failing stream open forever)."""


def tagged(request: HttpRequest, ctx: RequestContext) -> HttpRequest:
    """``request`` with the headers that depend on where it is sent from, not on what it asks.

    Inside a capture scope every request (job polls, traces, live traces too) carries the
    scope's ``X-Session-Id`` unless it names a session of its own, so the server files all of the
    scope's traffic under it; with OpenTelemetry on, the active span's trace context is added.
    """
    extra: dict[str, str] = {}
    scope = active_scope()
    if (
        scope is not None
        and scope.mode == "capture"
        and scope.session_id is not None
        and not any(name.lower() == _SESSION_HEADER_LOWER for name in request.headers)
    ):
        extra[SESSION_ID_HEADER] = scope.session_id
    if ctx.propagate is not None:
        extra.update(ctx.propagate())
    if not extra:
        return request
    return replace(request, headers={**request.headers, **extra})


_SESSION_HEADER_LOWER = SESSION_ID_HEADER.lower()


def _is_event_stream(head: StreamHead) -> bool:
    """Whether the answer declares an event stream (a missing Content-Type is given the benefit)."""
    content_type = head.headers.get("content-type")
    if content_type is None:
        return True
    return content_type.split(";", 1)[0].strip().lower() == "text/event-stream"


def _not_an_event_stream(head: StreamHead, ctx: RequestContext) -> Steps[NoukaiError]:
    content = yield from _read_and_close(MAX_ERROR_BODY_BYTES)
    response = HttpResponse(head.status_code, head.headers, content, secrets=ctx.secrets)
    error = response_validation_error(
        response,
        what="event stream",
        problem=f"Content-Type is {head.headers.get('content-type')!r}, not text/event-stream",
    )
    return _redact(error, ctx)


def _read_and_close(limit: int) -> Steps[bytes]:
    """Read a response body (at most ``limit`` bytes kept) and close the stream."""
    chunks: list[bytes] = []
    size = 0
    try:
        while size < limit and (chunk := (yield from read_stream())):
            chunks.append(chunk)
            size += len(chunk)
    finally:
        yield CloseStream()
    return b"".join(chunks)[:limit]


def parse_model(model: type[ModelT], response: HttpResponse, *, what: str) -> ModelT:
    """Validate a 2xx JSON body into ``model``; any mismatch is an :class:`APIResponseValidationError`."""
    from pydantic import ValidationError

    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        first_error = exc
    try:  # JSON in another Unicode encoding, or with a byte-order mark, as json.loads reads it
        return model.model_validate(json.loads(response.content))
    except (ValueError, ValidationError):
        pass
    raise response_validation_error(
        response, what=what, problem=_first_problem(first_error)
    ) from first_error


def parse_json(response: HttpResponse, *, what: str) -> Any:
    """The 2xx body as JSON; non-JSON is an :class:`APIResponseValidationError`."""
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise response_validation_error(response, what=what, problem="not JSON") from exc


def response_validation_error(
    response: HttpResponse, *, what: str, problem: str
) -> APIResponseValidationError:
    """The error for a successful response whose body is not the expected ``what``."""
    error = APIResponseValidationError(
        f"The API returned an unexpected {what} response (HTTP {response.status_code}): {problem}",
        status_code=response.status_code,
        request_id=response.request_id,
        response_body=parse_body(response.content),
        raw_body=response.content,
    )
    redact_error(error, response.secrets)
    return error


def _retry_after_failure(
    request: HttpRequest,
    ctx: RequestContext,
    attempt: int,
    error: APIConnectionError,
    deadline: Deadline | None,
) -> Steps[int]:
    """Back off and return the next attempt number, or raise ``error`` when it is not retried."""
    _redact(error, ctx)
    delay = ctx.retry.delay(attempt)
    if not ctx.retry.retries_error(request, error, attempt=attempt) or _too_late(deadline, delay):
        raise error
    return (yield from _back_off(request, ctx, attempt, delay, type(error).__name__))


def _retry_after_status(
    request: HttpRequest,
    ctx: RequestContext,
    attempt: int,
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    deadline: Deadline | None,
) -> Steps[int]:
    """Back off and return the next attempt number, or raise the error ``status_code`` maps to."""
    delay = ctx.retry.delay_after(attempt, headers)
    if not ctx.retry.retries_status(request, status_code, attempt=attempt) or _too_late(
        deadline, delay
    ):
        raise _mapped_error(status_code, headers, content, ctx)
    return (yield from _back_off(request, ctx, attempt, delay, f"HTTP {status_code}"))


def _back_off(
    request: HttpRequest, ctx: RequestContext, attempt: int, delay: float, reason: str
) -> Steps[int]:
    ctx.log.retry(request, attempt=attempt, delay=delay, reason=reason)
    yield Sleep(delay)
    return attempt + 1


def _mapped_error(
    status_code: int, headers: Any, content: bytes, ctx: RequestContext
) -> NoukaiError:
    retry_after = parse_retry_after(headers) if status_code == 429 else None
    return error_from_response(
        status_code=status_code,
        headers=headers,
        content=content,
        retry_after=retry_after,
        redact=ctx.secrets,
    )


def _redact(error: NoukaiError, ctx: RequestContext) -> NoukaiError:
    return redact_error(error, ctx.secrets)


def _first_problem(exc: Any) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return "does not match the schema"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"
