"""``noukai map``'s rows through ``flow.map()``: at most ``concurrency`` rows in flight, 429s
retried, per-row errors (raised, failed runs, failed jobs), and errors every row would hit stop the
batch."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

import noukai_sdk
from noukai_sdk.cli._map_batch import MapSettings, RowOutcome, map_rows
from noukai_sdk.cli._map_rows import InputRow

KEY = "nk_test_cli_map_0123456789"
LIMITED = (429, {"detail": {"code": "RATE_LIMITED", "message": "slow down"}})


class ScriptedApi:
    """The flow's API over a mock transport: each message's answers follow a script (a status
    and body per call, then success), counting calls and calls in flight."""

    def __init__(self, script: dict[str, list[tuple[int, Any]]] | None = None) -> None:
        self.script = script or {}
        self.in_flight = 0
        self.most_in_flight = 0
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":  # a job's status: the job ran its message
            message = request.url.path.rsplit("/", 1)[1].removeprefix("exec_")
            return self.answer(message, job=True)
        body = json.loads(request.content)
        self.calls.append(body)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            if request.url.path.endswith("/jobs"):
                accepted = {
                    "executionId": f"exec_{body['message']}",
                    "status": "started",
                    "flowId": "f",
                    "blockCount": 1,
                }
                return httpx.Response(200, json=accepted)
            return self.answer(body["message"], job=False)
        finally:
            self.in_flight -= 1

    def answer(self, message: str, *, job: bool) -> httpx.Response:
        planned = self.script.get(message, [])
        status, body = planned.pop(0) if planned else (200, "ok")
        if status != 200:
            return httpx.Response(status, json=body, headers={"Retry-After": "0"})
        failed = body == "failed"
        if job:
            job_status = {
                "executionId": f"exec_{message}",
                "status": "failed" if failed else "completed",
            }
            job_status.update({"error": "it broke"} if failed else {"result": f"done {message}"})
            return httpx.Response(200, json=job_status)
        run = {
            "status": "failed" if failed else "completed",
            "result": {"error": {"code": "BOOM", "message": "it broke"}, "step_id": "s1"}
            if failed
            else f"done {message}",
            "flowId": "f",
            "blockCount": 1,
            "executionId": f"exec_{message}",
        }
        return httpx.Response(200, json=run)


def rows(count: int) -> list[InputRow]:
    return [InputRow(i, f"m{i}", {"message": f"m{i}"}) for i in range(count)]


def run(
    api: ScriptedApi, items: list[InputRow], concurrency: int = 3, *, jobs: bool = False
) -> list[RowOutcome]:
    outcomes: list[RowOutcome] = []
    settings = MapSettings(
        concurrency=concurrency, jobs=jobs, common={"version": None}, poll_interval=0.0
    )

    async def main() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(api))
        async with noukai_sdk.AsyncNoukai(KEY, http_client=http) as client:
            await map_rows(client.flow("o/p/s"), iter(items), settings, outcomes.append)

    asyncio.run(main())
    return sorted(outcomes, key=lambda outcome: outcome.row.index)


def test_every_row_runs_once_with_at_most_concurrency_in_flight() -> None:
    api = ScriptedApi()
    outcomes = run(api, rows(20), concurrency=3)
    assert [o.output for o in outcomes] == [f"done m{i}" for i in range(20)]
    assert [o.row.index for o in outcomes] == list(range(20))
    assert api.most_in_flight == 3
    assert len(api.calls) == 20


def test_common_parameters_are_merged_under_a_rows_own() -> None:
    api = ScriptedApi()
    row = InputRow(0, "x", {"message": "x", "parameters": {"b": 2, "a": 3}})
    settings = MapSettings(concurrency=1, jobs=False, common={"parameters": {"a": 1, "c": 1}})

    async def main() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(api))
        async with noukai_sdk.AsyncNoukai(KEY, http_client=http) as client:
            await map_rows(client.flow("o/p/s"), [row], settings, lambda _: None)

    asyncio.run(main())
    assert api.calls[0]["parameters"] == {"a": 3, "c": 1, "b": 2}


def test_a_rate_limited_row_waits_and_is_tried_again() -> None:
    api = ScriptedApi({"m1": [LIMITED, LIMITED]})
    outcomes = run(api, rows(3))
    assert outcomes[1].error is None and outcomes[1].output == "done m1"
    assert [call["message"] for call in api.calls].count("m1") == 3


def test_a_row_rate_limited_three_times_is_recorded_as_failed() -> None:
    outcomes = run(ScriptedApi({"m0": [LIMITED] * 3}), rows(2))
    assert outcomes[0].error == {
        "type": "RateLimitError",
        "message": "slow down",
        "code": "RATE_LIMITED",
        "status_code": 429,
    }
    assert outcomes[1].error is None


def test_row_errors_and_failed_runs_are_kept_per_row() -> None:
    api = ScriptedApi(
        {
            "m0": [(400, {"detail": {"code": "BAD_INPUT", "message": "bad input"}})],
            "m2": [(200, "failed")],
        }
    )
    outcomes = run(api, rows(3))
    assert outcomes[0].error is not None and outcomes[0].error["type"] == "FlowExecutionError"
    assert outcomes[1].error is None
    assert outcomes[2].error == {
        "type": "FlowFailed",
        "message": "it broke",
        "code": "BOOM",
        "step_id": "s1",
    }
    assert outcomes[2].execution_id == "exec_m2"


def test_jobs_rows_poll_the_queue_and_a_failed_job_is_a_failed_row() -> None:
    api = ScriptedApi({"m1": [(200, "failed")]})
    outcomes = run(api, rows(3), jobs=True)
    assert [o.output for o in outcomes] == ["done m0", None, "done m2"]
    assert outcomes[1].error == {"type": "JobFailed", "message": "it broke"}
    assert outcomes[1].execution_id == "exec_m1"


def test_an_error_every_row_would_hit_stops_the_batch() -> None:
    no_credits = (402, {"detail": {"code": "INSUFFICIENT_CREDITS", "message": "no credits"}})
    api = ScriptedApi({"m0": [no_credits]})
    with pytest.raises(noukai_sdk.InsufficientCreditsError):
        run(api, rows(50), concurrency=1)
    assert len(api.calls) == 1
