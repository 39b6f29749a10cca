"""Tool calls inside a ``tool`` block: issuing one call per round and checking the results.

A paused block keeps its conversation and pending call in :class:`~._runs.ToolRound`; a resume
(on /execute or /step) must answer exactly the pending call. Results are accepted in the shapes
SDKs have sent: OpenAI (``role: tool``, ``tool_call_id``, ``content``), 0.2.0's README
(``tool_call_id`` + ``output``) and 0.4.0's (``toolCallId`` + ``output``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from noukai_sdk.devserver import _blocks
from noukai_sdk.devserver._errors import ApiError, RunFailure
from noukai_sdk.devserver._flows import BlockSpec, FlowSpec
from noukai_sdk.devserver._runs import RunState, ToolRound
from noukai_sdk_generated.models.chat_message import ChatMessage

_TOOL_CALL_ID_KEYS = (
    "tool_call_id",
    ChatMessage.model_fields["tool_call_id"].alias or "tool_call_id",
)


def tool_result_id(message: Mapping[str, Any]) -> str | None:
    """The call id a tool-result message answers, in any of the shapes SDKs have sent."""
    for key in _TOOL_CALL_ID_KEYS:
        value = message.get(key)
        if isinstance(value, str):
            return value
    return None


def tool_result_text(message: Mapping[str, Any]) -> str:
    value = message.get("content", message.get("output"))
    return value if isinstance(value, str) else json.dumps(value)


def check_resume(
    flow: FlowSpec, run: RunState, *, paused_at_step: str | None, messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Validate a tool-result resume against the paused run; return the new tool messages.

    The caller sends back the conversation of the pause followed by one result per pending
    call. Raises the contract's errors (PAUSED_STEP_INVALID, TOOL_RESULTS_MISMATCH,
    TOOL_ITERATION_LIMIT) before anything runs.
    """
    tool = run.tool
    if run.status != "paused_for_tools" or tool is None:
        raise ApiError(
            409,
            "EXECUTION_ID_INVALID",
            f"Execution {run.execution_id} is not waiting for tool results.",
        )
    if paused_at_step is not None and paused_at_step != tool.step_id:
        raise ApiError(
            400,
            "PAUSED_STEP_INVALID",
            f"Execution {run.execution_id} is paused at step '{tool.step_id}', not '{paused_at_step}'.",
        )
    results = messages[len(tool.conversation) :]
    answered = [tool_result_id(m) for m in results]
    expected = [call["id"] for call in tool.pending]
    if len(results) != len(answered) or sorted(a or "" for a in answered) != sorted(expected):
        raise ApiError(
            400,
            "TOOL_RESULTS_MISMATCH",
            f"Expected one tool result for each pending call {expected}, got results for {answered}.",
        )
    if tool.next_call + 1 < len(tool.planned) and run.iterations_used >= flow.max_tool_iterations:
        raise ApiError(
            409,
            "TOOL_ITERATION_LIMIT",
            f"Execution {run.execution_id} reached the limit of {flow.max_tool_iterations} tool iterations.",
        )
    return results


def next_tool_round(
    flow: FlowSpec, run: RunState, block: BlockSpec, tool_results: list[dict[str, Any]] | None
) -> bool:
    """Advance a tool block by one round; ``True`` when it is (still) paused for a tool call.

    With ``tool_results`` the pending call is answered and the next one issued; without them a
    block that is already waiting stays paused on the same call (a re-issued cursor).
    """
    assert block.tool is not None
    if run.tool is None:
        use_tools = run.tool_choice != "none"
        if use_tools and block.tool not in run.tool_names:
            raise RunFailure(
                "TOOLS_NOT_ENABLED",
                f"Step '{block.id}' needs the tool '{block.tool}'; pass it in `tools`.",
                http_status=400,
            )
        run.tool = ToolRound(
            step_id=block.id,
            planned=_blocks.plan_tool_calls(block, run.message) if use_tools else [],
            conversation=[{"role": "user", "content": run.message}],
        )
    tool = run.tool
    if tool_results is not None:
        tool.conversation.extend(tool_results)
        tool.outputs.extend([tool_result_text(m) for m in tool_results])
        tool.pending = []
        tool.next_call += 1
    elif tool.pending:
        run.status = "paused_for_tools"
        return True
    if tool.next_call >= len(tool.planned):
        return False
    if run.iterations_used >= flow.max_tool_iterations:
        raise RunFailure(
            "TOOL_ITERATION_LIMIT",
            f"Execution {run.execution_id} reached the limit of {flow.max_tool_iterations} tool iterations.",
            http_status=409,
        )
    call = {
        "id": f"call_{uuid.uuid4().hex[:16]}",
        "type": "function",
        "function": {"name": block.tool, "arguments": json.dumps(tool.planned[tool.next_call])},
    }
    tool.pending = [call]
    tool.conversation.append({"role": "assistant", "content": None, "tool_calls": [call]})
    run.iterations_used += 1
    run.status = "paused_for_tools"
    return True
