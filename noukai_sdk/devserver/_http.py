"""Small HTTP helpers shared by the routes: JSON bodies in and out, SSE responses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

import anyio.to_thread
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from noukai_sdk.devserver import _wire
from noukai_sdk.devserver._errors import ApiError
from noukai_sdk.devserver._request_json import parse_document

JSON_MEDIA_TYPE = "application/json"
MAX_BODY_BYTES = 10 * 1024 * 1024
# Below this size parsing takes well under a millisecond: a thread hop would cost more than it saves.
OFF_LOOP_BYTES = 64 * 1024
_MAX_DRAIN_BYTES = 256 * 1024 * 1024


def json_response(body: Any, *, status: int = 200) -> Response:
    return Response(json.dumps(body).encode(), status_code=status, media_type=JSON_MEDIA_TYPE)


def error_response(error: ApiError) -> Response:
    return Response(
        _wire.error_body(error.code, error.message),
        status_code=error.status,
        media_type=JSON_MEDIA_TYPE,
        headers=dict(error.headers),
    )


def event_stream(frames: AsyncIterator[bytes], *, on_close: Callable[[], None]) -> Response:
    """An SSE response over ``frames``; ``on_close`` runs when the stream ends or is dropped."""

    async def body() -> AsyncIterator[bytes]:
        try:
            async for frame in frames:
                yield frame
        finally:
            on_close()

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def read_model(request: Request, schema: Literal["ExecuteRequest", "StepRequest"]) -> Any:
    """The request body validated into its generated model (400 bad JSON, 413 too large, 422 wrong
    shape).

    A body of :data:`OFF_LOOP_BYTES` or more is parsed in a worker thread, so that one large body
    does not hold up every other request while it is parsed.
    """
    raw = await read_body(request)
    if len(raw) < OFF_LOOP_BYTES:
        document = parse_document(raw)
    else:
        document = await anyio.to_thread.run_sync(parse_document, raw)
    if not isinstance(document, dict):
        raise ApiError(422, "INVALID_REQUEST", "The request body must be a JSON object.")
    try:
        return _wire.parse(schema, document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ApiError(422, "INVALID_REQUEST", f"Invalid request body: {problems}.") from None


async def read_body(request: Request) -> bytes:
    """The whole body, or 413 ``PAYLOAD_TOO_LARGE`` beyond :data:`MAX_BODY_BYTES`.

    An oversized body is still read to its end (up to a bound) so that the client, which may
    still be sending, receives the 413 instead of a reset connection.
    """
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= MAX_BODY_BYTES:
            chunks.append(chunk)
        elif size > _MAX_DRAIN_BYTES:
            break
    if size > MAX_BODY_BYTES:
        raise _too_large()
    return b"".join(chunks)


def _too_large() -> ApiError:
    return ApiError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"The request body is larger than {MAX_BODY_BYTES} bytes.",
    )
