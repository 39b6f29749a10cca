"""The request protocols every API call goes through: retries, logging and error mapping.

``send_with_retries`` is the single loop for JSON requests and ``open_event_stream`` opens SSE
streams; both are sans-IO protocols (see :mod:`noukai_sdk._effects`) so the sync and async
clients share them. ``parse_model`` validates a 2xx body into a model, raising
:class:`APIResponseValidationError` instead of a bare pydantic error.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from noukai_sdk._constants import DEFAULT_TIMEOUT
from noukai_sdk._effects import CloseStream, Protocol, Sleep, open_stream, read_stream, send
from noukai_sdk._errors import (
    APIConnectionError,
    APIResponseValidationError,
    NoukaiError,
    error_from_response,
    parse_body,
    redact_secrets,
)
from noukai_sdk._http_types import HttpRequest, HttpResponse, StreamHead
from noukai_sdk._log_hook import LogHook
from noukai_sdk._retry import RetryPolicy, parse_retry_after

if TYPE_CHECKING:
    import httpx
    import httpx2
    from pydantic import BaseModel

ModelT = TypeVar("ModelT", bound="BaseModel")


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What request protocols need from their client: policy, log hook and defaults."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    log: LogHook = field(default_factory=lambda: LogHook(None))
    timeout: float | httpx.Timeout | httpx2.Timeout = DEFAULT_TIMEOUT
    secrets: tuple[str, ...] = field(default=(), repr=False)
    """Strings (the API key) masked out of every error message."""

    @property
    def log_payloads(self) -> bool:
        return self.log.payloads


def send_with_retries(
    request: HttpRequest, ctx: RequestContext, *, deadline: Deadline | None = None
) -> Protocol[HttpResponse]:
    """Send ``request``, retrying per ``ctx.retry``; return the 2xx response or raise the mapped error.

    With a ``deadline`` every attempt's timeout is bounded by the time left, and no retry is
    started that could not finish before it (used by ``Job.wait``).
    """
    log = ctx.log
    attempt = 0
    while True:
        sent = request if deadline is None else deadline.bound(request, ctx)
        if log.enabled:
            log.request(sent, attempt=attempt)
        try:
            response = yield from send(sent)
        except APIConnectionError as error:
            _redact(error, ctx)
            delay = ctx.retry.delay(attempt)
            if not ctx.retry.retries_error(request, error, attempt=attempt) or _too_late(
                deadline, delay
            ):
                raise
            attempt = yield from _back_off(request, ctx, attempt, delay, type(error).__name__)
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
            return response
        delay = ctx.retry.delay(attempt)
        if not ctx.retry.retries_status(
            request, response.status_code, attempt=attempt
        ) or _too_late(deadline, delay):
            raise _mapped_error(response.status_code, response.headers, response.content, ctx)
        attempt = yield from _back_off(request, ctx, attempt, delay, f"HTTP {response.status_code}")


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


def open_event_stream(request: HttpRequest, ctx: RequestContext) -> Protocol[StreamHead]:
    """Open a streaming request (never retried); on an error status read the body and raise."""
    ctx.log.request(request, attempt=0)
    try:
        head = yield from open_stream(request)
    except APIConnectionError as error:
        raise _redact(error, ctx) from None
    ctx.log.response(request, status_code=head.status_code, request_id=head.request_id, attempt=0)
    if 200 <= head.status_code < 300:
        return head
    chunks: list[bytes] = []
    try:
        while chunk := (yield from read_stream()):
            chunks.append(chunk)
    finally:
        yield CloseStream()
    raise _mapped_error(head.status_code, head.headers, b"".join(chunks), ctx)


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
    return APIResponseValidationError(
        f"The API returned an unexpected {what} response (HTTP {response.status_code}): {problem}",
        status_code=response.status_code,
        request_id=response.request_id,
        response_body=parse_body(response.content),
        raw_body=response.content,
    )


def _back_off(
    request: HttpRequest, ctx: RequestContext, attempt: int, delay: float, reason: str
) -> Protocol[int]:
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
    if ctx.secrets:
        error.message = redact_secrets(error.message, ctx.secrets)
        error.args = (error.message,)
    return error


def _first_problem(exc: Any) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return "does not match the schema"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"
