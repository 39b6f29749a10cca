"""The SDK's exception hierarchy and the mapping of HTTP error responses onto it.

Every failure the SDK raises is a :class:`NoukaiError`. Messages are human text built from the
error body, whatever its shape (the documented one, and the shapes 0.2.0 rendered as Python reprs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, cast

from noukai_sdk._core.secrets import mask_bytes, mask_text

_BODY_EXCERPT = 500


class NoukaiError(Exception):
    """Base class of every error raised by the SDK."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        execution_id: str | None = None,
        request_id: str | None = None,
        response_body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.execution_id = execution_id
        self.request_id = request_id
        self.response_body = response_body

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class APIConnectionError(NoukaiError):
    """The request failed before a complete response arrived (network, DNS, TLS, broken stream)."""

    def __init__(self, message: str, *, reached_server: bool = True, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reached_server = reached_server
        """False only when the request provably never left the client (connect failures)."""


class APITimeoutError(APIConnectionError):
    """A request, a stream read or a job wait exceeded its time budget."""


class StreamInterruptedError(APIConnectionError):
    """A step stream ended without a pause or terminal event; carries the cursor to continue from."""

    def __init__(
        self,
        message: str,
        *,
        execution_id: str | None = None,
        step_index: int | None = None,
        accumulated_outputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, execution_id=execution_id, **kwargs)
        self.step_index = step_index
        self.accumulated_outputs = accumulated_outputs if accumulated_outputs is not None else {}


class AuthenticationError(NoukaiError):
    """Missing or malformed API key, or HTTP 401."""

    def __init__(self, message: str, *, www_authenticate: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.www_authenticate = www_authenticate


class PermissionDeniedError(NoukaiError):
    """HTTP 403: the key may not use this flow or endpoint."""


class FlowNotFoundError(NoukaiError):
    """HTTP 404 on any endpoint (flow, job, run or step)."""


class InsufficientCreditsError(NoukaiError):
    """HTTP 402: the account has no credits left."""


class RateLimitError(NoukaiError):
    """HTTP 429; never retried automatically. ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class FlowExecutionError(NoukaiError):
    """Any other error status, or a failed flow step."""


class ToolCallLimitError(NoukaiError):
    """The tool-call loop paused more often than ``max_tool_rounds`` allows."""


class APIResponseValidationError(NoukaiError):
    """A successful response whose body does not fit the expected schema; keeps the raw body."""

    def __init__(self, message: str, *, raw_body: bytes = b"", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.raw_body = raw_body


class OutputValidationError(NoukaiError):
    """A flow's output does not fit the ``output_type`` asked for; keeps the raw output."""

    def __init__(
        self,
        message: str,
        *,
        raw_output: Any = None,
        errors: list[Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.raw_output = raw_output
        """The output exactly as the flow produced it (a JSON value or the text that was parsed)."""
        self.errors: list[Any] = errors if errors is not None else []
        """pydantic's error list (``ValidationError.errors()``), empty when the text was not JSON."""


class ReplayError(NoukaiError):
    """Base class of replay failures."""


class ReplayDisabledError(ReplayError):
    """Replay was requested where it is not enabled."""


class ReplayInvalidSessionError(ReplayError):
    """The session id or the fetched session payload is malformed."""

    def __init__(self, message: str, *, raw_body: bytes = b"", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.raw_body = raw_body
        """The payload that did not fit, when a fetched session or cassette was malformed."""


class ReplayForbiddenError(ReplayError):
    """The key may not read the recorded session."""


class ReplaySessionNotFoundError(ReplayError):
    """No recorded session has this id."""


class ReplaySessionExpiredError(ReplayError):
    """The recorded session is past its retention."""


class ReplayNoSnapshotsError(ReplayError):
    """The session was recorded without the snapshots replay needs."""


class ReplayMissError(ReplayError):
    """A call inside a replay scope matched no recorded execution."""


class ReplayLeftoverError(ReplayError):
    """A replay scope ended with recorded executions that were never consumed."""


_STATUS_ERRORS: dict[int, type[NoukaiError]] = {
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: FlowNotFoundError,
    429: RateLimitError,
}


def error_class_for_status(status_code: int) -> type[NoukaiError]:
    """The exception class for an error status (401, 402, 403, 404, 409, 413, 422, 429, 5xx)."""
    return _STATUS_ERRORS.get(status_code, FlowExecutionError)


def parse_body(content: bytes) -> Any:
    """The body as JSON, or ``None`` when it is empty or not JSON."""
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


def describe_error_body(status_code: int, content: bytes) -> tuple[str | None, str]:
    """``(code, message)`` for an error body of any shape; the message is always human text."""
    parsed = parse_body(content)
    if isinstance(parsed, dict):
        body = cast("dict[str, Any]", parsed)
        detail = body.get("detail")
        if isinstance(detail, dict):
            fields = cast("dict[str, Any]", detail)
            raw_code = fields.get("code")
            code = raw_code if isinstance(raw_code, str) and raw_code else None
            message = fields.get("message")
            if isinstance(message, str) and message:
                return code, message
            return code, _status_text(status_code, code)
        if isinstance(detail, str) and detail:
            return None, detail
        if isinstance(detail, list) and detail:
            problems: list[Any] = detail  # pyright: ignore[reportUnknownVariableType]
            return None, _describe_validation_list(problems)
        for key in ("message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return None, value
    if parsed is not None:
        return None, f"{_status_text(status_code, None)}: {_excerpt(_compact_json(parsed))}"
    text = content.decode("utf-8", errors="replace").strip()
    if text:
        return None, f"{_status_text(status_code, None)}: {_excerpt(text)}"
    return None, f"{_status_text(status_code, None)} (empty response body)"


def error_from_response(
    *,
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    retry_after: float | None = None,
    redact: tuple[str, ...] = (),
) -> NoukaiError:
    """The mapped :class:`NoukaiError` for a non-2xx response (headers lower-cased)."""
    content = mask_bytes(content, redact)
    code, message = describe_error_body(status_code, content)
    kwargs: dict[str, Any] = {
        "status_code": status_code,
        "code": code,
        "request_id": headers.get("x-request-id"),
        "response_body": parse_body(content),
    }
    cls = error_class_for_status(status_code)
    if cls is AuthenticationError:
        return AuthenticationError(
            message, www_authenticate=headers.get("www-authenticate"), **kwargs
        )
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)


def redact_error(error: NoukaiError, secrets: tuple[str, ...]) -> NoukaiError:
    """``error`` with the secrets masked out of its message and of the body it carries."""
    if not secrets:
        return error
    error.message = mask_text(error.message, secrets)
    error.args = (error.message,)
    if isinstance(error, APIResponseValidationError) and error.raw_body:
        error.raw_body = mask_bytes(error.raw_body, secrets)
        error.response_body = parse_body(error.raw_body)
    return error


def _describe_validation_list(items: list[Any]) -> str:
    """One line per FastAPI validation problem: ``location: message``."""
    parts: list[str] = []
    for item in items:
        if isinstance(item, dict):
            problem = cast("dict[str, Any]", item)
            loc = problem.get("loc")
            msg = problem.get("msg")
            steps: list[Any] | None = loc if isinstance(loc, list) else None  # pyright: ignore[reportUnknownVariableType]
            where = ".".join(str(p) for p in steps) if steps else None
            text = msg if isinstance(msg, str) else _compact_json(item)
            parts.append(f"{where}: {text}" if where else text)
        else:
            parts.append(item if isinstance(item, str) else _compact_json(item))
    return "Request validation failed: " + "; ".join(parts)


def _status_text(status_code: int, code: str | None) -> str:
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        phrase = "Error"
    suffix = f" ({code})" if code else ""
    return f"HTTP {status_code} {phrase}{suffix}"


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _excerpt(text: str) -> str:
    return text if len(text) <= _BODY_EXCERPT else text[:_BODY_EXCERPT] + "…"
