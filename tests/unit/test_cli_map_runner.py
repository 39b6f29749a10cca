"""``noukai map``'s runner: at most ``concurrency`` rows in flight, 429s retried, per-row errors,
and errors every row would hit stop the batch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import noukai_sdk
from noukai_sdk import ExecuteResult
from noukai_sdk.cli import _map_runner
from noukai_sdk.cli._map_rows import InputRow
from noukai_sdk.cli._map_runner import MapSettings, RowOutcome, run_rows


class FakeFlow:
    """An ``AsyncFlow`` stand-in whose ``execute`` follows a script per message."""

    def __init__(self, script: dict[str, list[BaseException | str]] | None = None) -> None:
        self.script = script or {}
        self.in_flight = 0
        self.most_in_flight = 0
        self.calls: list[dict[str, Any]] = []

    async def execute(self, **arguments: Any) -> ExecuteResult:
        self.calls.append(arguments)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            planned = self.script.get(arguments["message"], [])
            step = planned.pop(0) if planned else "ok"
            if isinstance(step, BaseException):
                raise step
            return ExecuteResult.model_validate(
                {
                    "status": step if step == "failed" else "completed",
                    "result": f"done {arguments['message']}",
                    "flowId": "f",
                    "blockCount": 1,
                    "executionId": f"exec_{arguments['message']}",
                }
            )
        finally:
            self.in_flight -= 1


def rows(count: int) -> list[InputRow]:
    return [InputRow(i, f"m{i}", {"message": f"m{i}"}) for i in range(count)]


def run(flow: FakeFlow, items: list[InputRow], concurrency: int = 3) -> list[RowOutcome]:
    outcomes: list[RowOutcome] = []
    settings = MapSettings(concurrency=concurrency, jobs=False, common={"version": None})
    asyncio.run(run_rows(flow, iter(items), settings, outcomes.append))
    return sorted(outcomes, key=lambda outcome: outcome.row.index)


@pytest.fixture
def no_rate_limit_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 429 without ``retry_after`` waits the runner's default second; these tests skip it."""
    monkeypatch.setattr(_map_runner, "RATE_LIMIT_DEFAULT_WAIT", 0.0)


def test_every_row_runs_once_with_at_most_concurrency_in_flight() -> None:
    flow = FakeFlow()
    outcomes = run(flow, rows(20), concurrency=3)
    assert [o.output for o in outcomes] == [f"done m{i}" for i in range(20)]
    assert flow.most_in_flight == 3
    assert len(flow.calls) == 20


def test_a_rate_limited_row_waits_and_is_tried_again(no_rate_limit_wait: None) -> None:
    limited = noukai_sdk.RateLimitError("slow down", status_code=429, retry_after=0.0)
    flow = FakeFlow({"m1": [limited, limited]})
    outcomes = run(flow, rows(3))
    assert outcomes[1].error is None and outcomes[1].output == "done m1"
    assert [call["message"] for call in flow.calls].count("m1") == 3


def test_a_row_rate_limited_three_times_is_recorded_as_failed(no_rate_limit_wait: None) -> None:
    limited = noukai_sdk.RateLimitError("slow down", status_code=429, retry_after=0.0)
    outcomes = run(FakeFlow({"m0": [limited] * 3}), rows(2))
    assert outcomes[0].error == {
        "type": "RateLimitError",
        "message": "slow down",
        "status_code": 429,
    }
    assert outcomes[1].error is None


def test_row_errors_and_failed_runs_are_kept_per_row() -> None:
    flow = FakeFlow(
        {"m0": [noukai_sdk.FlowExecutionError("bad input", status_code=400)], "m2": ["failed"]}
    )
    outcomes = run(flow, rows(3))
    assert outcomes[0].error is not None and outcomes[0].error["type"] == "FlowExecutionError"
    assert outcomes[1].error is None
    assert outcomes[2].error is not None and outcomes[2].error["type"] == "FlowFailed"
    assert outcomes[2].execution_id == "exec_m2"


def test_an_error_every_row_would_hit_stops_the_batch() -> None:
    flow = FakeFlow({"m0": [noukai_sdk.InsufficientCreditsError("no credits", status_code=402)]})
    with pytest.raises(noukai_sdk.InsufficientCreditsError):
        run(flow, rows(50), concurrency=1)
    assert len(flow.calls) == 1
