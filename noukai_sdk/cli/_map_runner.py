"""Run ``noukai map``'s rows over one ``AsyncNoukai`` with at most ``concurrency`` in flight.

A fixed set of workers pulls rows from one iterator, so memory stays flat however long the input
is. Each finished row is handed to ``on_outcome`` at once (the command writes it out). This is
the small part to swap for ``flow.map(..., as_completed=True)`` once the SDK has it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from noukai_sdk.cli._flow_failure import flow_error
from noukai_sdk.cli._map_rows import InputRow

RATE_LIMIT_ATTEMPTS = 3
"""How often one row is tried when the API answers 429 (waiting its ``retry_after`` between)."""
RATE_LIMIT_DEFAULT_WAIT = 1.0


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


async def run_rows(
    flow: Any,
    rows: Iterator[InputRow],
    settings: MapSettings,
    on_outcome: Callable[[RowOutcome], None],
) -> None:
    """Run every row; a batch-wide failure (bad key, no credits, API unreachable) stops all and raises."""

    async def worker() -> None:
        for row in rows:
            on_outcome(await _run_row(flow, row, settings))

    workers = [asyncio.ensure_future(worker()) for _ in range(settings.concurrency)]
    try:
        done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


async def _run_row(flow: Any, row: InputRow, settings: MapSettings) -> RowOutcome:
    import noukai_sdk

    arguments = _merged(settings.common, row.arguments)
    for attempt in range(1, RATE_LIMIT_ATTEMPTS + 1):
        try:
            if settings.jobs:
                return await _run_job(flow, row, arguments, settings)
            return await _run_execute(flow, row, arguments)
        except noukai_sdk.RateLimitError as exc:
            if attempt == RATE_LIMIT_ATTEMPTS:
                return RowOutcome(row, error=error_fields(exc))
            await asyncio.sleep(exc.retry_after or RATE_LIMIT_DEFAULT_WAIT)
        except noukai_sdk.NoukaiError as exc:
            if _batch_wide(exc):
                raise
            return RowOutcome(row, execution_id=exc.execution_id, error=error_fields(exc))
        except (ValueError, TypeError) as exc:
            return RowOutcome(row, error={"type": type(exc).__name__, "message": str(exc)})
    raise AssertionError("unreachable")  # pragma: no cover


async def _run_execute(flow: Any, row: InputRow, arguments: dict[str, Any]) -> RowOutcome:
    result = await flow.execute(**arguments)
    if result.requires_tool_calls:
        error = {"type": "ToolCallsRequired", "message": "the flow paused for tool calls"}
        return RowOutcome(row, execution_id=result.execution_id, error=error)
    if result.status == "failed":
        return RowOutcome(row, execution_id=result.execution_id, error=flow_error(result.result))
    return RowOutcome(row, output=result.result, execution_id=result.execution_id)


async def _run_job(
    flow: Any, row: InputRow, arguments: dict[str, Any], settings: MapSettings
) -> RowOutcome:
    job = await flow.execute_async(**arguments)
    status = await job.wait(timeout=settings.job_timeout, poll_interval=settings.poll_interval)
    if status.status == "completed":
        return RowOutcome(row, output=status.result, execution_id=job.execution_id)
    error = {"type": "JobFailed", "message": status.error or f"the job ended {status.status}"}
    return RowOutcome(row, execution_id=job.execution_id, error=error)


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


def _batch_wide(exc: Any) -> bool:
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
