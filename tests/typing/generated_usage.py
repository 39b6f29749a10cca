# pyright: strict
"""User code of the generated models (snake_case keywords, precise unions); checked, not run."""

from __future__ import annotations

from typing import Any

from noukai_sdk_generated.api.flows import execute_flow_version
from noukai_sdk_generated.models import ChatMessage, ExecuteRequest, StepCompleted, StepRequest
from noukai_sdk_generated.unions import EVENT_MODELS, Event


def body() -> dict[str, Any]:
    message = ChatMessage(role="tool", tool_call_id="tc-1", content="ok")
    request = ExecuteRequest(
        messages=[message], block_overrides={"s": {}}, tool_choice="auto", iterations_used=0
    )
    built = execute_flow_version.build_request(
        org="o", project="p", slug="s", version=2, body=request, x_session_id="sid"
    )
    StepRequest(execution_id="e", step_index=1, run_remaining=True)
    assert built["url"].startswith("/seq/")
    return request.to_wire()


def cost(raw: bytes) -> str | None:
    event: Event = EVENT_MODELS["step_completed"].model_validate_json(raw)
    if isinstance(event, StepCompleted):
        return event.cost_usd
    return None
