"""``noukai map``'s rows through ``flow.map()``: what each finished item writes, and which errors
stop the whole map instead of failing every row alike.

``flow.map()`` does the running (bounded concurrency, 429 slowdown and retries, the job queue with
``--jobs``, cancellation); this module turns the rows of the input file into its inputs and its
items back into result rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from noukai_sdk.cli._flow_failure import flow_error
from noukai_sdk.cli._map_rows import InputRow


@dataclass(frozen=True)
class RowOutcome:
    row: InputRow
    output: Any = None
    execution_id: str | None = None
    error: dict[str, Any] | None = None
    """``{"type", "message", "code"?, "status_code"?}`` when the row failed."""


@dataclass(frozen=True)
class MapSettings:
    concurrency: int
    jobs: bool
    common: dict[str, Any]
    """Keyword arguments for every row (``parameters`` are merged under the row's own)."""
    job_timeout: float = 3600.0
    poll_interval: float = 1.0


async def map_rows(
    flow: Any,
    rows: Iterable[InputRow],
    settings: MapSettings,
    on_outcome: Callable[[RowOutcome], None],
) -> None:
    """Run every row through ``flow.map(..., as_completed=True)``; hand each outcome over as it
    finishes. An error every other row would hit too (bad key, no credits, unknown flow, API
    unreachable) is raised instead: the map closes, starting nothing more and cancelling the
    rows in flight."""
    reading: dict[int, InputRow] = {}
    """Rows ``flow.map()`` has read and not finished yet: at most a few per call slot."""

    def inputs() -> Iterator[dict[str, Any]]:
        for position, row in enumerate(rows):
            reading[position] = row
            yield _merged(settings.common, row.arguments)

    options: dict[str, Any] = {}
    if settings.jobs:
        options = {
            "mode": "jobs",
            "wait_timeout": settings.job_timeout,
            "poll_interval": settings.poll_interval,
        }
    items = flow.map(inputs(), concurrency=settings.concurrency, as_completed=True, **options)
    async with contextlib.aclosing(items):
        async for item in items:
            row = reading.pop(item.index)
            if item.result is None and _batch_wide(item.error):
                raise item.error
            on_outcome(_outcome(row, item, jobs=settings.jobs))


def _outcome(row: InputRow, item: Any, *, jobs: bool) -> RowOutcome:
    result = item.result
    if result is None:
        return _raised(row, item.error)
    if jobs:
        if result.status == "completed":
            return RowOutcome(row, output=result.result, execution_id=result.execution_id)
        reason = result.error or f"the job ended {result.status}"
        return RowOutcome(
            row, execution_id=result.execution_id, error={"type": "JobFailed", "message": reason}
        )
    if result.requires_tool_calls:
        error = {"type": "ToolCallsRequired", "message": "the flow paused for tool calls"}
        return RowOutcome(row, execution_id=result.execution_id, error=error)
    if result.status == "failed":
        return RowOutcome(row, execution_id=result.execution_id, error=flow_error(result.result))
    return RowOutcome(row, output=result.result, execution_id=result.execution_id)


def _raised(row: InputRow, exc: BaseException) -> RowOutcome:
    import noukai_sdk

    if isinstance(exc, noukai_sdk.NoukaiError):
        return RowOutcome(row, execution_id=exc.execution_id, error=error_fields(exc))
    return RowOutcome(row, error={"type": type(exc).__name__, "message": str(exc)})


def _merged(common: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    arguments = {**common, **own}
    if "parameters" in common and "parameters" in own:
        arguments["parameters"] = {**common["parameters"], **(own["parameters"] or {})}
    return arguments


def error_fields(exc: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"type": type(exc).__name__, "message": exc.message}
    if exc.code:
        fields["code"] = exc.code
    if exc.status_code is not None:
        fields["status_code"] = exc.status_code
    return fields


def _batch_wide(exc: object) -> bool:
    """Errors every other row would hit too: stop instead of failing thousands of rows alike."""
    import noukai_sdk

    if isinstance(
        exc,
        (
            noukai_sdk.AuthenticationError,
            noukai_sdk.InsufficientCreditsError,
            noukai_sdk.FlowNotFoundError,
        ),
    ):
        return True
    return isinstance(exc, noukai_sdk.APIConnectionError) and not exc.reached_server
