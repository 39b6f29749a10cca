"""GET /seq/sessions/{sessionId}: the executions captured under one ``X-Session-Id``."""

from __future__ import annotations

import re
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from noukai_sdk.devserver import _snapshots, _wire
from noukai_sdk.devserver._errors import ApiError
from noukai_sdk.devserver._http import json_response
from noukai_sdk.devserver._runs import RunState
from noukai_sdk.devserver._service import INTERRUPTED, DevServer, server_of

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SESSION_STATUS = {"paused": "running", "paused_for_tools": "running"}


async def get_session(request: Request) -> Response:
    server = server_of(request)
    key = server.authenticate(request)
    session_id = request.path_params["session_id"]
    if not _UUID.match(session_id):
        raise ApiError(
            400, "BAD_REQUEST", f"Invalid session id format (expected UUID): '{session_id}'"
        )
    with server.slot(key):
        runs = server.store.session_runs(session_id)
        if session_id.lower() != session_id:
            runs += server.store.session_runs(session_id.lower())
        if not runs:
            raise ApiError(404, "NOT_FOUND", f"No session found for id '{session_id}'.")
        if any(run.key_hash != key.key_hash for run in runs):
            raise ApiError(403, "FORBIDDEN", f"This API key may not read session '{session_id}'.")
        return json_response(
            _wire.dump(
                "SessionResponse",
                {
                    "session_id": session_id,
                    "executions": [_execution(server, run) for run in runs],
                },
            )
        )


def _execution(server: DevServer, run: RunState) -> dict[str, Any]:
    org, project, slug = run.flow_key.split("/")
    flow = server.catalog.find(org, project, slug)
    sensitive = flow.redact if flow is not None else ()
    steps: list[dict[str, Any]] = []
    if run.capture != "off":
        for record in server.store.step_records(run.execution_id):
            if _was_interrupted(record):
                continue  # a retried, cut-short attempt: replaying it would fail the run
            steps.append(
                {
                    "step_id": record["step_id"],
                    "attempt": record["attempt"],
                    "loop_index": record["loop_index"],
                    "status": record["status"],
                    "started_at": record["started_at"],
                    "completed_at": record["completed_at"],
                    "duration_ms": record["duration_ms"],
                    "input_snapshot": _snapshots.reveal(
                        record["input_data"], capture=run.capture, sensitive=sensitive
                    ),
                    "output_snapshot": _snapshots.reveal(
                        record["output_data"], capture=run.capture, sensitive=sensitive
                    ),
                    "error_snapshot": record["error"]
                    if _snapshots.replayable(run.capture)
                    else None,
                    "truncated": False,
                }
            )
    return {
        "execution_id": run.execution_id,
        "flow_id": run.flow_id,
        "slug": slug if flow is not None else None,
        "trigger_type": run.trigger,
        "status": _SESSION_STATUS.get(run.status, run.status),
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "trace_capture_mode": run.capture,
        "snapshots_available": _snapshots.replayable(run.capture),
        "steps": steps,
        "error_at_step": run.error_at_step,
    }


def _was_interrupted(record: dict[str, Any]) -> bool:
    error = record["error"]
    return isinstance(error, dict) and cast(dict[str, Any], error).get("code") == INTERRUPTED
