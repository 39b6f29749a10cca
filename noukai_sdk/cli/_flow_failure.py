"""What went wrong in a failed run, read from its result, for one-line messages and ``map`` rows."""

from __future__ import annotations

from typing import Any, cast


def flow_error(result: Any) -> dict[str, Any]:
    """``{"type": "FlowFailed", "message", "code"?, "step_id"?}`` from a failed run's result.

    The API reports a failed run as ``{"error": {"code", "message"}, "step_id"}``; any other shape
    still gives a readable message.
    """
    error: dict[str, Any] = {"type": "FlowFailed", "message": "the flow failed"}
    if not isinstance(result, dict):
        return error
    fields = cast("dict[str, Any]", result)
    detail = fields.get("error")
    if isinstance(detail, dict):
        known = cast("dict[str, Any]", detail)
        error.update({key: known[key] for key in ("code", "message") if known.get(key)})
    elif detail:
        error["message"] = str(detail)
    if fields.get("step_id"):
        error["step_id"] = fields["step_id"]
    return error


def failure_line(error: dict[str, Any], execution_id: str | None) -> str:
    """``the flow failed at step 'explode': CODE: message (execution exec_…)``."""
    step = error.get("step_id")
    where = f" at step {step!r}" if step else ""
    reason = ": ".join(str(error[key]) for key in ("code", "message") if error.get(key))
    run = f" (execution {execution_id})" if execution_id else ""
    return f"the flow failed{where}: {reason}{run}"
