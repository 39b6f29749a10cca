"""Relay replies shared by the RelayFlow and relay-safety unit tests."""

from __future__ import annotations

from typing import Any

RELAY = "https://app.example/agent/execute"
COMPLETED: dict[str, Any] = {
    "status": "completed",
    "result": "done",
    "flowId": "f-1",
    "blockCount": 1,
    "executionId": "exec-1",
}
PAUSED: dict[str, Any] = {
    "status": "tool_calls_required",
    "executionId": "exec-1",
    "pausedAtStep": "lookup",
    "iterationsUsed": 1,
    "toolCallMessages": [{"role": "assistant", "tool_calls": [{"id": "call-1"}]}],
    "toolCalls": [{"id": "call-1", "function": {"name": "get_weather", "arguments": "{}"}}],
    "accumulatedOutputs": {"intro": "hi"},
    "flowId": "f-1",
    "blockCount": 2,
}
