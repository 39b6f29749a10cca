"""GET job status, run and step traces, and the live trace stream of a run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from noukai_sdk.devserver import _snapshots, _wire
from noukai_sdk.devserver._errors import ApiError
from noukai_sdk.devserver._flows import FlowSpec
from noukai_sdk.devserver._http import event_stream, json_response
from noukai_sdk.devserver._runs import RunState
from noukai_sdk.devserver._service import FlowAccess, server_of

_JOB_STATUS = {"paused": "running", "paused_for_tools": "running"}


def _run(request: Request, access: FlowAccess, *, code: str = "RUN_NOT_FOUND") -> RunState:
    execution_id = request.path_params["execution_id"]
    run = server_of(request).find_run(access.flow, execution_id)
    if run is None:
        raise ApiError(404, code, f"No execution '{execution_id}' of flow '{access.flow.key}'.")
    return run


async def get_job(request: Request) -> Response:
    server = server_of(request)
    access = server.check_flow(request, charge=False)
    with server.slot(access.key):
        run = _run(request, access, code="JOB_NOT_FOUND")
        if not server.store.is_job(run.execution_id):
            raise ApiError(404, "JOB_NOT_FOUND", f"Execution '{run.execution_id}' is not a job.")
        error = None if run.error is None else f"{run.error['code']}: {run.error['message']}"
        return json_response(
            _wire.dump(
                "JobStatus",
                {
                    "execution_id": run.execution_id,
                    "status": _JOB_STATUS.get(run.status, run.status),
                    "result": run.result,
                    "error": error,
                },
            )
        )


async def get_trace(request: Request) -> Response:
    server = server_of(request)
    access = server.check_flow(request, charge=False)
    with server.slot(access.key):
        run = _run(request, access)
        records = server.store.step_records(run.execution_id)
        latest: dict[tuple[str, int | None], dict[str, Any]] = {}
        for record in records:
            slot = (record["step_id"], record["loop_index"])
            if slot not in latest or record["attempt"] >= latest[slot]["attempt"]:
                latest[slot] = record
        return json_response(
            _wire.dump(
                "Trace",
                {
                    "flow_run": run_summary(run, access.flow),
                    "steps": [step_trace(r, run, access.flow) for r in latest.values()],
                },
            )
        )


async def get_step_trace(request: Request) -> Response:
    server = server_of(request)
    access = server.check_flow(request, charge=False)
    with server.slot(access.key):
        run = _run(request, access)
        step_id = request.path_params["step_id"]
        attempt, loop_index = _step_query(request)
        records = [
            r
            for r in server.store.step_records(run.execution_id)
            if r["step_id"] == step_id and (loop_index is None or r["loop_index"] == loop_index)
        ]
        if attempt == "all":
            if not records:
                raise ApiError(
                    404, "NOT_FOUND", f"Step '{step_id}' has not run in '{run.execution_id}'."
                )
            return json_response(
                _wire.dump(
                    "StepAttempts",
                    {
                        "step_id": step_id,
                        "attempts": [step_trace(r, run, access.flow) for r in records],
                    },
                )
            )
        if attempt is not None:
            records = [r for r in records if r["attempt"] == attempt]
        if not records:
            raise ApiError(
                404, "NOT_FOUND", f"No such attempt of step '{step_id}' in '{run.execution_id}'."
            )
        chosen = max(records, key=lambda r: (r["attempt"], r["loop_index"] or 0))
        return json_response(_wire.dump("StepTrace", step_trace(chosen, run, access.flow)))


async def stream_trace(request: Request) -> Response:
    server = server_of(request)
    access = server.check_flow(request, charge=False)
    server.accounts.acquire(access.key)
    try:
        run = _run(request, access)
    except BaseException:
        server.accounts.release(access.key)
        raise

    async def frames() -> AsyncIterator[bytes]:
        async for event in server.tail(run.execution_id):
            yield _wire.sse_frame(event.event_type, event.fields)

    return event_stream(frames(), on_close=lambda: server.accounts.release(access.key))


def run_summary(run: RunState, flow: FlowSpec) -> dict[str, Any]:
    return {
        "id": run.run_id,
        "flow_id": run.flow_id,
        "status": run.status,
        "trigger_type": run.trigger,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "duration_ms": run.duration_ms,
        "step_count": len(flow.blocks(run.version)),
    }


def step_trace(record: dict[str, Any], run: RunState, flow: FlowSpec) -> dict[str, Any]:
    """A stored step record as StepTrace fields, contexts shown as the capture mode allows."""
    usage = record["usage"]
    capture = "full" if run.trace_io else run.capture
    shown_input = _snapshots.reveal(record["input_data"], capture=capture, sensitive=flow.redact)
    shown_output = _snapshots.reveal(record["output_data"], capture=capture, sensitive=flow.redact)
    has_output = record["status"] == "completed" and shown_output is not None
    return {
        "step_id": record["step_id"],
        "attempt": record["attempt"],
        "loop_index": record["loop_index"],
        "status": record["status"],
        "started_at": record["started_at"],
        "completed_at": record["completed_at"],
        "duration_ms": record["duration_ms"],
        "model_used": record["model_used"],
        "tokens": None
        if usage is None
        else {
            "prompt": usage["prompt"],
            "completion": usage["completion"],
            "total": usage["prompt"] + usage["completion"],
        },
        "cost_usd": None if usage is None else _cost(usage),
        "input_context": shown_input,
        "output_context": {"output": shown_output} if has_output else None,
        "error_context": record["error"],
        "input_size_bytes": _snapshots.size_bytes(record["input_data"]),
        "output_size_bytes": None
        if record["output_data"] is None
        else _snapshots.size_bytes(record["output_data"]),
        "truncated": False,
    }


def _cost(usage: dict[str, int]) -> str:
    from noukai_sdk.devserver._blocks import Usage, format_cost

    return format_cost(Usage(usage["prompt"], usage["completion"]).cost)


def _step_query(request: Request) -> tuple[int | str | None, int | None]:
    attempt_text = request.query_params.get("attempt")
    loop_text = request.query_params.get("loop_index")
    attempt: int | str | None = None
    if attempt_text is not None:
        if attempt_text == "all":
            attempt = "all"
        elif _is_count(attempt_text) and int(attempt_text) >= 1:
            attempt = int(attempt_text)
        else:
            raise ApiError(
                400,
                "BAD_REQUEST",
                f"attempt must be a positive integer or 'all', got '{attempt_text}'.",
            )
    loop_index = None
    if loop_text is not None:
        if not _is_count(loop_text):
            raise ApiError(
                400, "BAD_REQUEST", f"loop_index must be a non-negative integer, got '{loop_text}'."
            )
        loop_index = int(loop_text)
    return attempt, loop_index


def _is_count(text: str) -> bool:
    """ASCII decimal digits of a sane length (``str.isdigit`` also accepts ``"²"``)."""
    return text.isascii() and text.isdigit() and len(text) <= 9
