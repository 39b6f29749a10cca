"""Usage: ``Trace.usage`` and ``execute(..., usage=True)`` (one trace request after a completed run)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, Kind, completed, make_client, paused, resolve

from noukai_sdk import Trace, Usage

EXECUTE = "/seq/acme/billing/invoice/execute"
TRACE = "/seq/acme/billing/invoice/runs/exec-1/trace"
FLOW = "acme/billing/invoice"


def trace_body(*steps: dict[str, Any]) -> dict[str, Any]:
    return {
        "flowRun": {"id": "exec-1", "flowId": "f-1", "status": "completed"},
        "steps": [
            {"stepId": f"s-{index}", "attempt": 1, "status": "completed", **fields}
            for index, fields in enumerate(steps)
        ],
    }


TWO_MODEL_STEPS = trace_body(
    {"tokens": {"prompt": 100, "completion": 20, "total": 120}, "costUsd": "0.000150"},
    {"tokens": {"prompt": 7, "completion": 3}, "costUsd": "0.000025"},
    {},
)
EXPECTED = Usage(
    prompt_tokens=107, completion_tokens=23, total_tokens=130, cost_usd=Decimal("0.000175")
)


def test_trace_usage_sums_the_steps_exactly() -> None:
    trace = Trace.model_validate(TWO_MODEL_STEPS)
    assert trace.usage == EXPECTED
    assert Trace.model_validate(trace_body()).usage == Usage()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_run_trace_has_usage(kind: Kind) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.get(TRACE).respond(200, json=TWO_MODEL_STEPS)
        trace = resolve(make_client(kind).flow(FLOW).run("exec-1").trace())
    assert trace.usage == EXPECTED


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_usage_true_fetches_the_trace_once_after_a_completed_run(kind: Kind) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post(EXECUTE).respond(200, json=completed())
        trace = mock.get(TRACE).respond(200, json=TWO_MODEL_STEPS)
        result = resolve(make_client(kind).flow(FLOW).execute("hi", usage=True))
    assert trace.call_count == 1
    assert result.usage == EXPECTED
    assert result.output == {"answer": 42}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_without_usage_no_trace_is_fetched(kind: Kind) -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.post(EXECUTE).respond(200, json=completed())
        trace = mock.get(TRACE).respond(200, json=TWO_MODEL_STEPS)
        result = resolve(make_client(kind).flow(FLOW).execute("hi"))
    assert not trace.called
    assert result.usage is None


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_failed_run_gets_no_usage_and_no_request(kind: Kind) -> None:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.post(EXECUTE).respond(200, json=completed(status="failed"))
        trace = mock.get(TRACE).respond(200, json=TWO_MODEL_STEPS)
        result = resolve(make_client(kind).flow(FLOW).execute("hi", usage=True))
    assert not trace.called
    assert result.usage is None


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_trace_that_cannot_be_fetched_keeps_the_result_and_warns(kind: Kind) -> None:
    client = make_client(kind, max_retries=0)
    with respx.mock(base_url=BASE) as mock:
        mock.post(EXECUTE).respond(200, json=completed())
        mock.get(TRACE).respond(404, json={"error": {"code": "NOT_FOUND", "message": "no run"}})
        with pytest.warns(
            UserWarning, match="result.usage is None because the trace of execution exec-1"
        ):
            result = resolve(client.flow(FLOW).execute("hi", usage=True))
    assert result.status == "completed"
    assert result.usage is None


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_tool_loop_fetches_usage_once_for_the_final_result(kind: Kind) -> None:
    def handler(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"role": "tool", "tool_call_id": "tc-1", "content": "ok"}]

    with respx.mock(base_url=BASE) as mock:
        mock.post(EXECUTE).mock(
            side_effect=[
                httpx.Response(200, json=paused()),
                httpx.Response(200, json=completed()),
            ]
        )
        trace = mock.get(TRACE).respond(200, json=TWO_MODEL_STEPS)
        result = resolve(
            make_client(kind).flow(FLOW).execute("hi", tool_handler=handler, usage=True)
        )
    assert trace.call_count == 1
    assert result.usage == EXPECTED
