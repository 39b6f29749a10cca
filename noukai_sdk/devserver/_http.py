"""Small HTTP helpers shared by the routes: JSON bodies in and out, SSE responses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from noukai_sdk.devserver import _wire
from noukai_sdk.devserver._errors import ApiError

JSON_MEDIA_TYPE = "application/json"


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
    """The request body validated into its generated model (400 bad JSON, 422 wrong shape)."""
    raw = await request.body()
    try:
        document: Any = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise ApiError(400, "INVALID_JSON", f"The request body is not JSON: {exc}.") from exc
    if not isinstance(document, dict):
        raise ApiError(422, "INVALID_REQUEST", "The request body must be a JSON object.")
    try:
        return _wire.parse(schema, document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ApiError(422, "INVALID_REQUEST", f"Invalid request body: {problems}.") from exc
