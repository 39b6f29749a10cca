"""Wire JSON for every response body and SSE event, built with the generated models.

The engine and store speak snake_case attribute names; this module validates them into the
models generated from ``openapi.yaml`` (``noukai_sdk_generated.models``) and dumps them with the
wire aliases, so no wire name is written by hand in the dev server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel

SchemaName = Literal[
    "ExecuteResult",
    "PausedResult",
    "JobAccepted",
    "JobStatus",
    "Trace",
    "StepTrace",
    "StepAttempts",
    "SessionResponse",
    "ErrorBody",
    "ExecuteRequest",
    "StepRequest",
]
_EVENT_SCHEMAS = (
    "RunStarted",
    "StepStarted",
    "StepInput",
    "StepOutput",
    "StepProgress",
    "StepCompleted",
    "StepFailed",
    "StepPaused",
    "ToolCallsRequired",
    "LoopCompleted",
    "FlowCompleted",
)


@cache
def model(schema: str) -> type[BaseModel]:
    from noukai_sdk_generated import models

    found: type[BaseModel] = getattr(models, schema)
    return found


def dump(schema: SchemaName, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The wire JSON object of ``schema`` built from snake_case ``fields``."""
    instance = model(schema).model_validate(dict(fields))
    return instance.model_dump(mode="json", by_alias=True, exclude_none=True)


def parse(schema: Literal["ExecuteRequest", "StepRequest"], body: Any) -> BaseModel:
    """Validate a request body (wire names) into its generated model."""
    return model(schema).model_validate(body)


@cache
def _event_models() -> dict[str, type[BaseModel]]:
    """Event type (``step_completed``...) -> the generated model whose default carries it."""
    by_type: dict[str, type[BaseModel]] = {}
    for schema in _EVENT_SCHEMAS:
        event_model = model(schema)
        default = event_model.model_fields["event_type"].default
        by_type[str(default)] = event_model
    return by_type


def sse_frame(event_type: str, fields: Mapping[str, Any]) -> bytes:
    """One LF-framed SSE frame: ``event: <type>\\ndata: <json>\\n\\n``."""
    event_model = _event_models()[event_type]
    payload = event_model.model_validate({**fields, "event_type": event_type})
    data = payload.model_dump_json(by_alias=True, exclude_none=True)
    return f"event: {event_type}\ndata: {data}\n\n".encode()


def error_body(code: str, message: str) -> bytes:
    """The JSON bytes of ``{"detail": {"code", "message"}}``."""
    return json.dumps(dump("ErrorBody", {"detail": {"code": code, "message": message}})).encode()
