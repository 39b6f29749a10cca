"""Builders for recorded sessions used by the replay tests (no tests here).

Sessions are built from the generated models by field name, so no wire name is typed by hand;
``wire_bytes`` gives the JSON body the API would send.
"""

from __future__ import annotations

import json
from typing import Any

from noukai_sdk_generated.models import SessionExecution, SessionResponse, SessionStep

SESSION_ID = "11111111-1111-4111-8111-111111111111"
OTHER_SESSION_ID = "22222222-2222-4222-8222-222222222222"


def step(
    step_id: str,
    output: Any = None,
    *,
    attempt: int = 1,
    loop_index: int | None = None,
    error: dict[str, Any] | None = None,
    status: str = "completed",
    truncated: bool = False,
) -> SessionStep:
    return SessionStep.model_validate(
        {
            "step_id": step_id,
            "attempt": attempt,
            "loop_index": loop_index,
            "output_snapshot": output,
            "error_snapshot": error,
            "status": status,
            "truncated": truncated,
        }
    )


def execution(
    execution_id: str,
    slug: str | None = "grade-3",
    *,
    trigger: str | None = "execute",
    steps: list[SessionStep] | None = None,
    status: str = "completed",
    flow_id: str | None = "flow-1",
    error_at_step: str | None = None,
    snapshots: bool = True,
    capture_mode: str = "full",
) -> SessionExecution:
    return SessionExecution.model_validate(
        {
            "execution_id": execution_id,
            "slug": slug,
            "trigger_type": trigger,
            "steps": steps if steps is not None else [step("s-1", {"ok": execution_id})],
            "status": status,
            "flow_id": flow_id,
            "error_at_step": error_at_step,
            "snapshots_available": snapshots,
            "trace_capture_mode": capture_mode,
        }
    )


def session(*executions: SessionExecution, session_id: str = SESSION_ID) -> SessionResponse:
    return SessionResponse.model_validate(
        {"session_id": session_id, "executions": list(executions)}
    )


def wire_bytes(value: SessionResponse) -> bytes:
    return json.dumps(value.to_wire()).encode()
