"""POST …/execute (with tool-call resume), …/step (SSE) and …/jobs: the three ways to run a flow."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from noukai_sdk.devserver import _wire
from noukai_sdk.devserver._engine import StopReason, advance
from noukai_sdk.devserver._errors import ApiError, ServerStopping
from noukai_sdk.devserver._http import event_stream, json_response, read_model
from noukai_sdk.devserver._runs import RunState, Trigger, new_run
from noukai_sdk.devserver._service import DevServer, FlowAccess, Outcome, server_of
from noukai_sdk.devserver._tool_rounds import check_resume

MAX_MESSAGES_BYTES = 1_000_000
MAX_TOOLS = 64
_ALLOWED_ROLES = frozenset({"user", "assistant", "tool"})
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SESSION_HEADER = "x-session-id"


async def execute(request: Request) -> Response:
    server = server_of(request)
    access = server.check_flow(request, charge=True)
    with server.slot(access.key):
        body = await read_model(request, "ExecuteRequest")
        if body.execution_id is None:
            run, results = _fresh_run(request, access, body, trigger="execute"), None
        else:
            run = _paused_run(server, access, body.execution_id, trigger="execute")
            results = check_resume(
                access.flow,
                run,
                paused_at_step=body.paused_at_step,
                messages=list(body.tool_call_messages or []),
            )
        server.claim(run)
        try:
            engine = advance(
                access.flow,
                run,
                pause_between_steps=False,
                tool_results=results,
                default_latency_ms=server.config.latency_ms,
                announce=results is None,
            )
            server.store.save_run(run)
            reason = await server.run_to_stop(run, engine)
        finally:
            server.unclaim(run)
        return json_response(_execute_response(access, run, reason))


async def step(request: Request) -> Response:
    server = server_of(request)
    access = server.check_flow(request, charge=True)
    if request.path_params.get("version") == 0:
        raise ApiError(
            400,
            "INVALID_VERSION",
            "Step-through is not supported on the draft (/v0); publish a version or use the unversioned path.",
        )
    server.accounts.acquire(access.key)
    try:
        body = await read_model(request, "StepRequest")
        run, results = _step_cursor(request, server, access, body)
        server.claim(run)
    except BaseException:
        server.accounts.release(access.key)
        raise
    server.store.save_run(run)
    engine = advance(
        access.flow,
        run,
        pause_between_steps=not body.run_remaining,
        tool_results=results,
        default_latency_ms=server.config.latency_ms,
    )

    async def frames() -> AsyncIterator[bytes]:
        with suppress(ServerStopping):  # the stream ends; the run waits at its cursor
            async for batch in server.drive(run, engine, Outcome()):
                yield b"".join(_wire.sse_frame(event.event_type, event.fields) for event in batch)

    def finished() -> None:
        server.unclaim(run)
        server.accounts.release(access.key)

    return event_stream(frames(), on_close=finished)


async def submit_job(request: Request) -> Response:
    server = server_of(request)
    access = server.check_flow(request, charge=True)
    with server.slot(access.key):
        body = await read_model(request, "ExecuteRequest")
        if body.tools:
            raise ApiError(
                400,
                "TOOLS_REQUIRE_SYNC_EXECUTE",
                "Tool calls need the blocking execute endpoint; /jobs does not support `tools`.",
            )
        run = _fresh_run(request, access, body, trigger="job")
        server.store.save_run(run)
        server.store.enqueue_job(run.execution_id)
        server.job_pickup_at[run.execution_id] = (
            asyncio.get_running_loop().time() + server.config.job_pickup_ms / 1000
        )
        server.jobs_waiting.set()
        accepted = _wire.dump(
            "JobAccepted",
            {
                "execution_id": run.execution_id,
                "status": "pending",
                "flow_id": run.flow_id,
                "block_count": len(access.flow.blocks(run.version)),
            },
        )
        return json_response(accepted, status=202)


def _fresh_run(request: Request, access: FlowAccess, body: Any, *, trigger: Trigger) -> RunState:
    run = new_run(
        access.flow,
        version=access.version,
        trigger=trigger,
        key_hash=access.key.key_hash,
        session_id=request.headers.get(_SESSION_HEADER) or None,
    )
    run.message = body.message if body.message is not None else _message_from_turns(body)
    run.parameters = dict(body.parameters or {})
    run.block_overrides = dict(body.block_overrides or {})
    run.tool_names = _tool_names(body.tools)
    run.tool_choice = body.tool_choice
    run.trace_io = bool(body.trace)
    return run


def _message_from_turns(body: Any) -> str:
    """The current user turn of a structured ``messages`` conversation (execute only)."""
    turns = list(getattr(body, "messages", None) or [])
    if not turns:
        return ""
    size = len(
        json.dumps([t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in turns])
    )
    if size > MAX_MESSAGES_BYTES:
        raise ApiError(
            413,
            "MESSAGES_TOO_LARGE",
            f"`messages` is {size} bytes; the limit is {MAX_MESSAGES_BYTES}.",
        )
    for index, turn in enumerate(turns):
        if turn.role not in _ALLOWED_ROLES:
            raise ApiError(
                400,
                "MESSAGES_ROLE_INVALID",
                f"messages[{index}] has role '{turn.role}'; allowed: user, assistant, tool.",
            )
    users = [t.content for t in turns if t.role == "user"]
    last = users[-1] if users else ""
    return last if isinstance(last, str) else json.dumps(last)


def _tool_names(tools: Any) -> list[str]:
    if not tools:
        return []
    if len(tools) > MAX_TOOLS:
        raise ApiError(
            400, "TOOLS_INVALID", f"At most {MAX_TOOLS} tools are allowed, got {len(tools)}."
        )
    names: list[str] = []
    for index, tool in enumerate(tools):
        definition: dict[str, Any] = tool
        function: Any = definition.get("function")
        if definition.get("type") != "function" or not isinstance(function, dict):
            raise ApiError(400, "TOOLS_INVALID", f"tools[{index}] must be an OpenAI function tool.")
        name: Any = cast(dict[str, Any], function).get("name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise ApiError(
                400, "TOOL_NAME_INVALID", f"tools[{index}] has an invalid function name {name!r}."
            )
        names.append(name)
    return names


def _paused_run(
    server: DevServer, access: FlowAccess, execution_id: str, *, trigger: Trigger
) -> RunState:
    run = server.find_run(access.flow, execution_id)
    if run is None or run.trigger != trigger:
        raise ApiError(
            400,
            "EXECUTION_ID_INVALID",
            f"No {trigger} execution '{execution_id}' of flow '{access.flow.key}'.",
        )
    return run


def _step_cursor(
    request: Request, server: DevServer, access: FlowAccess, body: Any
) -> tuple[RunState, list[dict[str, Any]] | None]:
    """The run a /step call continues (or starts) and the tool results it brings."""
    if body.execution_id is None:
        if body.step_index != 0 or body.tool_call_messages:
            raise ApiError(
                400,
                "INVALID_FIRST_CALL",
                "A first /step call has no executionId, stepIndex 0 and no toolCallMessages.",
            )
        if body.message is None:
            raise ApiError(400, "MISSING_MESSAGE", "The first /step call needs a `message`.")
        run = _fresh_run(request, access, body, trigger="step")
        run.input_overrides = dict(body.input_overrides or {})
        return run, None
    run = _paused_run(server, access, body.execution_id, trigger="step")
    if run.is_terminal:
        raise ApiError(
            400,
            "INVALID_STEP_INDEX",
            f"Execution '{run.execution_id}' has already finished ({run.status}).",
        )
    if body.step_index != run.step_index:
        raise ApiError(
            400,
            "INVALID_STEP_INDEX",
            f"Execution '{run.execution_id}' is at step {run.step_index}, not {body.step_index}.",
        )
    run.input_overrides = dict(body.input_overrides or {})
    run.block_overrides = dict(body.block_overrides or {})
    if body.tools is not None:
        run.tool_names = _tool_names(body.tools)
    if not body.tool_call_messages:
        return run, None
    return run, check_resume(
        access.flow, run, paused_at_step=None, messages=list(body.tool_call_messages)
    )


def _execute_response(access: FlowAccess, run: RunState, reason: StopReason) -> dict[str, Any]:
    block_count = len(access.flow.blocks(run.version))
    if reason == "tool_pause":
        assert run.tool is not None
        return _wire.dump(
            "PausedResult",
            {
                "execution_id": run.execution_id,
                "paused_at_step": run.tool.step_id,
                "iterations_used": run.iterations_used,
                "tool_call_messages": run.tool.conversation,
                "tool_calls": run.tool.pending,
                "accumulated_outputs": run.accumulated_outputs,
                "flow_id": run.flow_id,
                "block_count": block_count,
            },
        )
    if reason == "failed" and run.error is not None and run.error_status is not None:
        raise ApiError(run.error_status, run.error["code"], run.error["message"])
    result = (
        run.result if reason == "completed" else {"error": run.error, "step_id": run.error_at_step}
    )
    return _wire.dump(
        "ExecuteResult",
        {
            "status": "completed" if reason == "completed" else "failed",
            "result": result,
            "flow_id": run.flow_id,
            "block_count": block_count,
            "execution_id": run.execution_id,
        },
    )
