"""The state of one execution: what survives between requests and restarts, and how it is made."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Literal

from noukai_sdk.devserver._flows import FlowSpec

RunStatus = Literal["pending", "running", "paused", "paused_for_tools", "completed", "failed"]
Trigger = Literal["execute", "step", "job"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


@dataclass
class ToolRound:
    """A tool block waiting for (or collecting) tool results."""

    step_id: str
    planned: list[dict[str, Any]]
    next_call: int = 0
    conversation: list[dict[str, Any]] = field(default_factory=lambda: [])
    pending: list[dict[str, Any]] = field(default_factory=lambda: [])
    outputs: list[str] = field(default_factory=lambda: [])


@dataclass
class RunState:
    """Everything about one execution that must survive between requests and restarts."""

    execution_id: str
    run_id: str
    flow_key: str
    flow_id: str
    version: int
    trigger: Trigger
    key_hash: str
    message: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {})
    block_overrides: dict[str, Any] = field(default_factory=lambda: {})
    input_overrides: dict[str, Any] = field(default_factory=lambda: {})
    tool_names: list[str] = field(default_factory=lambda: [])
    tool_choice: Any = None
    session_id: str | None = None
    status: RunStatus = "pending"
    step_index: int = 0
    accumulated_outputs: dict[str, Any] = field(default_factory=lambda: {})
    iterations_used: int = 0
    tool: ToolRound | None = None
    attempts: dict[str, int] = field(default_factory=lambda: {})
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: str = "0"
    started_at: str | None = None
    completed_at: str | None = None
    duration_ms: int = 0
    result: Any = None
    error: dict[str, str] | None = None
    error_status: int | None = None
    error_at_step: str | None = None
    capture: str = "full"
    trace_io: bool = False

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def to_json(self) -> str:
        data = shallow_dict(self)
        data["tool"] = None if self.tool is None else shallow_dict(self.tool)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> RunState:
        data = json.loads(text)
        tool = data.pop("tool")
        return cls(**data, tool=None if tool is None else ToolRound(**tool))


def shallow_dict(instance: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict without deep-copying their values (unlike ``asdict``)."""
    return {f.name: getattr(instance, f.name) for f in fields(instance)}


def new_run(
    flow: FlowSpec, *, version: int, trigger: Trigger, key_hash: str, session_id: str | None
) -> RunState:
    return RunState(
        execution_id=f"exec_{uuid.uuid4().hex}",
        run_id=f"run_{uuid.uuid4().hex}",
        flow_key=flow.key,
        flow_id=flow.flow_id,
        version=version,
        trigger=trigger,
        key_hash=key_hash,
        session_id=session_id,
        capture=flow.capture,
    )


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
