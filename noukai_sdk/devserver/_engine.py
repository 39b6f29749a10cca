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
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, cast

from noukai_sdk.devserver import _blocks
from noukai_sdk.devserver._blocks import TemplateContext, Usage
from noukai_sdk.devserver._errors import RunFailure
from noukai_sdk.devserver._flows import BlockSpec, FlowSpec
from noukai_sdk.devserver._runs import RunState, ToolRound, now_iso
from noukai_sdk.devserver._tool_rounds import next_tool_round

StopReason = Literal["step_paused", "tool_pause", "completed", "failed"]


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
            if not block.streams:
                yield Wait(latency)
            context = TemplateContext(
                message=run.message,
                parameters=run.parameters,
                outputs=run.accumulated_outputs,
                tool_outputs=run.tool.outputs if run.tool else (),
                loop_index=loop_index or 0,
            )
            if block.kind == "tool":
                if next_tool_round(flow, run, block, tool_results):
                    assert run.tool is not None
                    yield _tool_pause_event(run, run.tool)
                    return False
                context = TemplateContext(
                    message=run.message,
                    parameters=run.parameters,
                    outputs=run.accumulated_outputs,
                    tool_outputs=run.tool.outputs if run.tool else (),
                )
                run.tool = None
            output, prompt = _block_output(block, template, context)
            if block.streams:
                chunks = _blocks.stream_chunks(_blocks.output_text(output))
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
    if not block.streams:
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
