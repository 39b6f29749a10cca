"""The one run engine behind /execute, /step and /jobs.

:func:`advance` is a generator that runs a flow from the run's cursor and *yields* what the
outside world must do or know — :class:`Wait` (simulated block latency), :class:`Event` (a
step-protocol event) and :class:`StepRecord` (a step-trace row to upsert) — and returns why it
stopped. It sleeps, stores and writes nothing itself, so every entry point drives the same logic:
/execute runs it to the end or to a tool pause, /step streams its events and pauses between steps,
the job worker runs it to the end.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Literal, cast

from noukai_sdk.devserver import _blocks
from noukai_sdk.devserver._blocks import TemplateContext, Usage
from noukai_sdk.devserver._errors import ApiError, RunFailure
from noukai_sdk.devserver._flows import BlockSpec, FlowSpec

RunStatus = Literal["pending", "running", "paused", "paused_for_tools", "completed", "failed"]
Trigger = Literal["execute", "step", "job"]
StopReason = Literal["step_paused", "tool_pause", "completed", "failed"]
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
    api_key: str
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


@dataclass(frozen=True, slots=True)
class Wait:
    seconds: float


@dataclass(frozen=True, slots=True)
class Event:
    """A step-protocol event: its type and its fields (snake_case attribute names)."""

    event_type: str
    fields: Mapping[str, Any]
    persist: bool = True


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One step-trace row, keyed by (step_id, attempt, loop_index); later yields replace it."""

    step_id: str
    attempt: int
    loop_index: int | None
    status: Literal["running", "completed", "failed", "skipped"]
    started_at: str
    completed_at: str | None = None
    duration_ms: int | None = None
    model_used: str | None = None
    usage: Usage | None = None
    input_data: Any = None
    output_data: Any = None
    error: dict[str, str] | None = None


EngineOutput = Wait | Event | StepRecord
Engine = Generator[EngineOutput, None, StopReason]


def shallow_dict(instance: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict without deep-copying their values (unlike ``asdict``)."""
    return {f.name: getattr(instance, f.name) for f in fields(instance)}


def new_run(
    flow: FlowSpec, *, version: int, trigger: Trigger, api_key: str, session_id: str | None
) -> RunState:
    return RunState(
        execution_id=f"exec_{uuid.uuid4().hex}",
        run_id=f"run_{uuid.uuid4().hex}",
        flow_key=flow.key,
        flow_id=flow.flow_id,
        version=version,
        trigger=trigger,
        api_key=api_key,
        session_id=session_id,
        capture=flow.capture,
    )


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def tool_result_id(message: Mapping[str, Any]) -> str | None:
    """The call id a tool-result message answers, in any of the shapes SDKs have sent."""
    for key in ("tool_call_id", "toolCallId"):
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


def advance(
    flow: FlowSpec,
    run: RunState,
    *,
    pause_between_steps: bool,
    tool_results: list[dict[str, Any]] | None = None,
    default_latency_ms: int,
    announce: bool = True,
) -> Engine:
    """Run ``run`` from its cursor until a pause, the end, or a failure; return why it stopped."""
    blocks = flow.blocks(run.version)
    if run.started_at is None:
        run.started_at = now_iso()
    run.status = "running"
    if announce:
        yield Event(
            "run_started",
            {
                "run_id": run.run_id,
                "execution_id": run.execution_id,
                "flow_id": run.flow_id,
                "step_count": len(blocks),
            },
            persist=run.step_index == 0 and run.tool is None,
        )
    clock = time.monotonic()
    try:
        while run.step_index < len(blocks):
            block = blocks[run.step_index]
            finished = yield from _run_block(flow, run, block, tool_results, default_latency_ms)
            tool_results = None
            if not finished:
                return "tool_pause"
            if pause_between_steps and run.step_index < len(blocks):
                run.status = "paused"
                yield Event("step_paused", {"step_id": block.id, "step_index": run.step_index})
                return "step_paused"
    except RunFailure as failure:
        run.status = "failed"
        run.error = {"code": failure.code, "message": failure.message}
        run.error_status = failure.http_status
        run.error_at_step = blocks[run.step_index].id
        run.completed_at = now_iso()
        run.duration_ms += _elapsed_ms(clock)
        yield Event(
            "step_error",
            {
                "step_id": blocks[run.step_index].id,
                "name": blocks[run.step_index].name,
                "error": dict(run.error),
            },
        )
        return "failed"
    run.status = "completed"
    run.completed_at = now_iso()
    run.duration_ms += _elapsed_ms(clock)
    run.result = run.accumulated_outputs.get(blocks[-1].id)
    yield Event(
        "flow_completed",
        {
            "run_id": run.run_id,
            "execution_id": run.execution_id,
            "result": run.result,
            "summary": run_summary(run, step_count=len(blocks)),
        },
    )
    return "completed"


def run_summary(run: RunState, *, step_count: int) -> dict[str, Any]:
    return {
        "step_count": step_count,
        "total_tokens": run.prompt_tokens + run.completion_tokens,
        "cost_usd": run.cost_usd,
        "duration_ms": run.duration_ms,
    }


def _run_block(
    flow: FlowSpec,
    run: RunState,
    block: BlockSpec,
    tool_results: list[dict[str, Any]] | None,
    default_latency_ms: int,
) -> Generator[EngineOutput, None, bool]:
    """Run one block; ``True`` when it completed, ``False`` when it paused for tool calls."""
    resuming_tools = run.tool is not None and run.tool.step_id == block.id
    if not resuming_tools:
        run.attempts[block.id] = run.attempts.get(block.id, 0) + 1
    attempt = run.attempts[block.id]
    yield Event(
        "step_started", {"step_id": block.id, "name": block.name, "step_index": run.step_index}
    )
    overrides = _mapping(run.block_overrides.get(block.id))
    input_data = {
        "message": run.message,
        "parameters": run.parameters,
        **_mapping(run.input_overrides.get(block.id)),
    }
    if not resuming_tools:
        yield Event("step_input", {"step_id": block.id, "input_data": input_data})
    model = str(overrides.get("model", block.model))
    template = str(overrides.get("template", block.template))
    latency = _latency_seconds(block, run, default_latency_ms)
    started_at, clock = now_iso(), time.monotonic()
    loop_indexes: list[int | None] = [None] if block.loop == 1 else list(range(block.loop))
    for loop_index in loop_indexes:
        yield StepRecord(
            block.id,
            attempt,
            loop_index,
            "running",
            started_at,
            model_used=model,
            input_data=input_data,
        )

    outputs: list[Any] = []
    usage = Usage(0, 0)
    try:
        for loop_index in loop_indexes:
            if block.kind != "stream":
                yield Wait(latency)
            context = TemplateContext(
                message=run.message,
                parameters=run.parameters,
                outputs=run.accumulated_outputs,
                tool_outputs=run.tool.outputs if run.tool else (),
                loop_index=loop_index or 0,
            )
            if block.kind == "tool":
                paused = yield from _tool_round(flow, run, block, tool_results)
                if paused:
                    return False
                context = TemplateContext(
                    message=run.message,
                    parameters=run.parameters,
                    outputs=run.accumulated_outputs,
                    tool_outputs=run.tool.outputs if run.tool else (),
                )
                run.tool = None
            output, prompt = _block_output(block, template, context)
            if block.kind == "stream" and isinstance(output, str):
                chunks = _blocks.stream_chunks(output)
                for chunk in chunks:
                    yield Wait(latency / len(chunks))
                    yield Event(
                        "step_output", {"step_id": block.id, "output_data": {"delta": chunk}}
                    )
            part = _blocks.usage_for(
                prompt, output if isinstance(output, str) else json.dumps(output)
            )
            usage = Usage(usage.prompt + part.prompt, usage.completion + part.completion)
            outputs.append(output)
            yield StepRecord(
                block.id,
                attempt,
                loop_index,
                "completed",
                started_at,
                now_iso(),
                _elapsed_ms(clock),
                model,
                part,
                input_data,
                output,
            )
            if loop_index is not None:
                yield Event(
                    "step_progress",
                    {
                        "step_id": block.id,
                        "step_index": run.step_index,
                        "progress": (loop_index + 1) / block.loop,
                        "message": f"iteration {loop_index + 1} of {block.loop}",
                    },
                )
    except RunFailure as failure:
        error = {"code": failure.code, "message": failure.message}
        for loop_index in loop_indexes[len(outputs) :]:
            yield StepRecord(
                block.id,
                attempt,
                loop_index,
                "failed",
                started_at,
                now_iso(),
                _elapsed_ms(clock),
                model,
                None,
                input_data,
                None,
                error,
            )
        raise
    output = outputs[0] if block.loop == 1 else outputs
    if block.loop > 1:
        yield Event(
            "loop_completed",
            {
                "step_id": block.id,
                "step_index": run.step_index,
                "iterations": block.loop,
                "output": output,
            },
        )
    if block.kind != "stream":
        yield Event("step_output", {"step_id": block.id, "output_data": output})
    _charge(run, usage)
    run.accumulated_outputs[block.id] = output
    run.step_index += 1
    yield Event(
        "step_completed",
        {
            "step_id": block.id,
            "name": block.name,
            "output": output,
            "duration_ms": _elapsed_ms(clock),
            "tokens": _tokens(usage),
            "cost_usd": _blocks.format_cost(usage.cost),
            "step_index": run.step_index - 1,
        },
    )
    return True


def _tool_round(
    flow: FlowSpec, run: RunState, block: BlockSpec, tool_results: list[dict[str, Any]] | None
) -> Generator[EngineOutput, None, bool]:
    """Advance a tool block by one round; ``True`` when it paused for a tool call."""
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
        tool.outputs.extend(_blocks_text(tool_results))
        tool.pending = []
        tool.next_call += 1
    elif tool.pending:
        yield _tool_pause_event(run, tool)
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
    yield _tool_pause_event(run, tool)
    return True


def _tool_pause_event(run: RunState, tool: ToolRound) -> Event:
    return Event(
        "step_paused_for_tool_calls",
        {
            "run_id": run.run_id,
            "execution_id": run.execution_id,
            "step_id": tool.step_id,
            "step_index": run.step_index,
            "iterations_used": run.iterations_used,
            "tool_call_messages": list(tool.conversation),
            "tool_calls": list(tool.pending),
            "accumulated_outputs": dict(run.accumulated_outputs),
        },
    )


def _blocks_text(results: list[dict[str, Any]]) -> list[str]:
    return [tool_result_text(message) for message in results]


def _block_output(block: BlockSpec, template: str, context: TemplateContext) -> tuple[Any, str]:
    """The block's output and the prompt text its token count is based on."""
    prompt = f"{context.message} {json.dumps(context.parameters, sort_keys=True)}"
    if block.kind == "fail":
        raise RunFailure(
            block.code, _blocks.render(block.message, context), http_status=block.http_status
        )
    if block.kind == "structured":
        return _blocks.structured_output(block, context), prompt
    return _blocks.render(template, context), prompt


def _latency_seconds(block: BlockSpec, run: RunState, default_ms: int) -> float:
    milliseconds = default_ms if block.latency_ms is None else block.latency_ms
    if block.latency_param is not None:
        override = run.parameters.get(block.latency_param)
        if isinstance(override, (int, float)) and not isinstance(override, bool) and override >= 0:
            milliseconds = int(override)
    return milliseconds / 1000


def _charge(run: RunState, usage: Usage) -> None:
    run.prompt_tokens += usage.prompt
    run.completion_tokens += usage.completion
    run.cost_usd = str(Decimal(run.cost_usd) + usage.cost)


def _tokens(usage: Usage) -> dict[str, int]:
    return {"prompt": usage.prompt, "completion": usage.completion, "total": usage.total}


def _mapping(value: Any) -> dict[str, Any]:
    return dict(cast(dict[str, Any], value)) if isinstance(value, dict) else {}


def _elapsed_ms(since: float) -> int:
    return int((time.monotonic() - since) * 1000)
