"""Typed output: ``output_type=`` on execute, jobs, relays and replay; ``result.parsed``; ``StepCompleted.parse``."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, Kind, completed, make_client, paused, resolve, resume
from pydantic import BaseModel
from test_replay_helpers import SESSION_ID, execution, session, step, wire_bytes
from typing_extensions import TypedDict

from noukai_sdk import (
    AsyncRelayFlow,
    ExecuteResult,
    NoukaiError,
    OutputValidationError,
    PausedResult,
    RelayFlow,
    StepCompleted,
    trace_scope_sync,
)
from noukai_sdk._core.output import output_adapter, parse_output

EXECUTE = "/seq/acme/billing/invoice/execute"
POLL = "/seq/acme/billing/invoice/jobs/exec-1"
FLOW = "acme/billing/invoice"
INVOICE = {"number": "INV-7", "total": 12.5}


class Invoice(BaseModel):
    number: str
    total: float


@dataclass
class InvoiceRecord:
    number: str
    total: float


class InvoiceDict(TypedDict):
    number: str
    total: float


def run(kind: Kind, body: dict[str, Any], **kwargs: Any) -> Any:
    client = make_client(kind)
    with respx.mock(base_url=BASE) as mock:
        mock.post(EXECUTE).respond(200, json=body)
        return resolve(client.flow(FLOW).execute("bill me", **kwargs))


# --- what parse_output accepts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output_type", "expected"),
    [
        (Invoice, Invoice(number="INV-7", total=12.5)),
        (InvoiceRecord, InvoiceRecord(number="INV-7", total=12.5)),
        (InvoiceDict, {"number": "INV-7", "total": 12.5}),
        (dict[str, Any], INVOICE),
    ],
)
@pytest.mark.parametrize(
    "raw",
    [
        INVOICE,
        json.dumps(INVOICE),
        f"  \n{json.dumps(INVOICE)}\n ",
        f"```json\n{json.dumps(INVOICE, indent=2)}\n```",
        f"\n\n```\n{json.dumps(INVOICE)}\n```\n",
        f"```JSON {json.dumps(INVOICE)}```",
    ],
    ids=["value", "json-text", "whitespace", "fenced-json", "fenced-plain", "fenced-one-line"],
)
def test_a_json_value_and_json_text_give_the_same_object(
    output_type: Any, expected: Any, raw: Any
) -> None:
    assert parse_output(output_type, raw) == expected


def test_a_list_of_models() -> None:
    raw = [INVOICE, {"number": "INV-8", "total": 3}]
    parsed = parse_output(list[Invoice], raw)
    assert parsed == [Invoice(number="INV-7", total=12.5), Invoice(number="INV-8", total=3.0)]
    assert parse_output(list[Invoice], f"```json\n{json.dumps(raw)}\n```") == parsed


def test_plain_text_is_still_a_string_and_numbers_are_read_from_text() -> None:
    assert parse_output(str, "Hello there") == "Hello there"
    assert parse_output(str, '{"looks": "like json"}') == '{"looks": "like json"}'
    assert parse_output(int, "42") == 42
    assert parse_output(int | None, None) is None


def test_a_mismatch_keeps_the_raw_output_pydantic_errors_and_the_execution_id() -> None:
    raw = {"number": "INV-7", "total": "a lot"}
    with pytest.raises(OutputValidationError) as caught:
        parse_output(Invoice, raw, execution_id="exec-1")
    error = caught.value
    assert isinstance(error, NoukaiError)
    assert error.raw_output is raw
    assert error.execution_id == "exec-1"
    assert [(e["loc"], e["type"]) for e in error.errors] == [(("total",), "float_parsing")]
    assert str(error) == (
        "The output of execution exec-1 does not fit Invoice: total: Input should be a valid "
        "number, unable to parse string as a number"
    )


def test_a_mismatch_in_json_text_lists_the_first_errors() -> None:
    raw = json.dumps([{"number": 1}, {"total": "x"}])
    with pytest.raises(OutputValidationError) as caught:
        parse_output(list[Invoice], raw, execution_id="exec-2")
    assert caught.value.raw_output == raw
    assert len(caught.value.errors) == 4
    assert str(caught.value).startswith(
        "The output of execution exec-2 does not fit list[Invoice]: 0.number:"
    )
    assert str(caught.value).endswith("(and 1 more)")


def test_text_that_is_not_json_says_so() -> None:
    with pytest.raises(OutputValidationError) as caught:
        parse_output(Invoice, "Sorry, I could not find an invoice.", execution_id="exec-3")
    assert caught.value.errors == []
    assert caught.value.raw_output == "Sorry, I could not find an invoice."
    assert "is text that is not JSON" in str(caught.value)
    assert "'Sorry, I could not find an invoice.'" in str(caught.value)


def test_a_null_output_does_not_fit_a_model() -> None:
    with pytest.raises(
        OutputValidationError, match="does not fit Invoice: output: Input should be"
    ):
        parse_output(Invoice, None)


def test_one_adapter_per_type_built_on_first_use() -> None:
    assert output_adapter(Invoice) is output_adapter(Invoice)
    assert output_adapter(list[Invoice]) is output_adapter(list[Invoice])


def test_import_builds_no_adapter(fresh_import: dict[str, Any]) -> None:
    assert "noukai_sdk._core.output" not in fresh_import["import"]
    assert fresh_import["adapters_cached_after_import"] == 0


# --- execute() ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(
    ("output_type", "expected"),
    [
        (Invoice, Invoice(number="INV-7", total=12.5)),
        (InvoiceRecord, InvoiceRecord(number="INV-7", total=12.5)),
        (InvoiceDict, {"number": "INV-7", "total": 12.5}),
    ],
)
def test_execute_parses_the_output(kind: Kind, output_type: Any, expected: Any) -> None:
    result = run(kind, completed(result=INVOICE), output_type=output_type)
    assert isinstance(result, ExecuteResult)
    assert result.parsed == expected
    assert result.output == INVOICE


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_execute_parses_a_json_string_output_and_a_list(kind: Kind) -> None:
    text = f"```json\n{json.dumps([INVOICE])}\n```"
    result = run(kind, completed(result=text), output_type=list[Invoice])
    assert result.parsed == [Invoice(number="INV-7", total=12.5)]
    assert result.output == text


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_without_output_type_parsed_is_none(kind: Kind) -> None:
    result = run(kind, completed(result=INVOICE))
    assert result.parsed is None
    assert result.usage is None


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_mismatch_raises_with_the_execution_id(kind: Kind) -> None:
    with pytest.raises(OutputValidationError) as caught:
        run(kind, completed(result={"number": "INV-7"}), output_type=Invoice)
    assert caught.value.execution_id == "exec-1"
    assert caught.value.raw_output == {"number": "INV-7"}
    assert caught.value.errors[0]["loc"] == ("total",)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_failed_run_is_never_validated(kind: Kind) -> None:
    result = run(kind, completed(status="failed", result="boom"), output_type=Invoice)
    assert result.status == "failed"
    assert result.parsed is None


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_type_pydantic_cannot_validate_is_refused_before_any_request(kind: Kind) -> None:
    client = make_client(kind)
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.post(EXECUTE).respond(200, json=completed())
        with pytest.raises(TypeError, match=r"output_type=.* cannot be validated by pydantic"):
            resolve(client.flow(FLOW).execute("x", output_type=object()))
    assert not route.called


def test_parsed_results_keep_equality_dump_repr_and_pickling() -> None:
    plain = run("sync", completed(result=INVOICE))
    typed = run("sync", completed(result=INVOICE), output_type=Invoice)
    assert typed.model_dump() == plain.model_dump()
    assert repr(typed) == repr(plain)
    assert typed.to_wire() == plain.to_wire()
    assert pickle.loads(pickle.dumps(typed)) == typed
    assert pickle.loads(pickle.dumps(typed)).parsed == typed.parsed
    assert copy.deepcopy(typed).parsed == typed.parsed
    assert plain == run("sync", completed(result=INVOICE))


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_tool_loop_parses_the_final_result(kind: Kind) -> None:
    client = make_client(kind)
    calls: list[Any] = []

    def handler(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        calls.append(tool_calls)
        return [{"role": "tool", "tool_call_id": "tc-1", "content": "ok"}]

    with respx.mock(base_url=BASE) as mock:
        mock.post(EXECUTE).mock(
            side_effect=[
                httpx.Response(200, json=paused()),
                httpx.Response(200, json=completed(result=json.dumps(INVOICE))),
            ]
        )
        result = resolve(client.flow(FLOW).execute("x", tool_handler=handler, output_type=Invoice))
    assert len(calls) == 1
    assert result.parsed == Invoice(number="INV-7", total=12.5)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_manual_resume_carries_the_output_type(kind: Kind) -> None:
    client = make_client(kind)
    with respx.mock(base_url=BASE) as mock:
        mock.post(EXECUTE).mock(
            side_effect=[
                httpx.Response(200, json=paused()),
                httpx.Response(200, json=completed(result=INVOICE)),
            ]
        )
        first = resolve(client.flow(FLOW).execute("x", output_type=Invoice))
        assert isinstance(first, PausedResult)
        final = resume(kind, first, [{"role": "tool", "tool_call_id": "tc-1", "content": "ok"}])
    assert isinstance(final, ExecuteResult)
    assert final.parsed == Invoice(number="INV-7", total=12.5)


# --- jobs -----------------------------------------------------------------------------------------


def submit_and(kind: Kind, mock: respx.MockRouter) -> Any:
    mock.post("/seq/acme/billing/invoice/jobs").respond(
        200, json={"executionId": "exec-1", "status": "started", "flowId": "f", "blockCount": 1}
    )
    return resolve(make_client(kind).flow(FLOW).execute_async("bill me"))


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_job_wait_parses_a_completed_result(kind: Kind) -> None:
    with respx.mock(base_url=BASE) as mock:
        job = submit_and(kind, mock)
        mock.get(POLL).respond(
            200, json={"executionId": "exec-1", "status": "completed", "result": INVOICE}
        )
        status = resolve(job.wait(timeout=5, poll_interval=0, output_type=Invoice))
        untyped = resolve(job.poll())
    assert status.parsed == Invoice(number="INV-7", total=12.5)
    assert status.result == INVOICE
    assert untyped.parsed is None


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_job_poll_of_a_running_or_failed_job_is_not_validated(kind: Kind) -> None:
    with respx.mock(base_url=BASE) as mock:
        job = submit_and(kind, mock)
        mock.get(POLL).mock(
            side_effect=[
                httpx.Response(200, json={"executionId": "exec-1", "status": "running"}),
                httpx.Response(
                    200, json={"executionId": "exec-1", "status": "failed", "error": "no"}
                ),
            ]
        )
        running = resolve(job.poll(output_type=Invoice))
        failed = resolve(job.wait(timeout=5, poll_interval=0, output_type=Invoice))
    assert (running.status, running.parsed) == ("running", None)
    assert (failed.status, failed.parsed) == ("failed", None)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_job_wait_mismatch_raises(kind: Kind) -> None:
    with respx.mock(base_url=BASE) as mock:
        job = submit_and(kind, mock)
        mock.get(POLL).respond(
            200, json={"executionId": "exec-1", "status": "completed", "result": "free text"}
        )
        with pytest.raises(OutputValidationError) as caught:
            resolve(job.wait(timeout=5, poll_interval=0, output_type=Invoice))
    assert caught.value.execution_id == "exec-1"
    assert caught.value.raw_output == "free text"


# --- relays ---------------------------------------------------------------------------------------

RELAY = "https://app.example/agent/execute"


def test_relay_flow_parses_the_output() -> None:
    with respx.mock() as mock, RelayFlow(RELAY) as relay:
        mock.post(RELAY).respond(200, json=completed(result=json.dumps(INVOICE)))
        result = relay.execute("bill me", output_type=Invoice)
    assert result.parsed == Invoice(number="INV-7", total=12.5)


async def test_async_relay_flow_parses_the_output_after_a_tool_round() -> None:
    async def handler(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"role": "tool", "tool_call_id": "tc-1", "content": "ok"}]

    with respx.mock() as mock:
        mock.post(RELAY).mock(
            side_effect=[
                httpx.Response(200, json=paused()),
                httpx.Response(200, json=completed(result=INVOICE)),
            ]
        )
        async with AsyncRelayFlow(RELAY) as relay:
            result = await relay.execute("bill me", tool_handler=handler, output_type=InvoiceRecord)
    assert result.parsed == InvoiceRecord(number="INV-7", total=12.5)


async def test_async_relay_flow_mismatch_raises() -> None:
    with respx.mock() as mock:
        mock.post(RELAY).respond(200, json=completed(result={"total": 1}))
        async with AsyncRelayFlow(RELAY) as relay:
            with pytest.raises(OutputValidationError, match="number: Field required"):
                await relay.execute("bill me", output_type=Invoice)


# --- replay ---------------------------------------------------------------------------------------


@pytest.fixture
def replay_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.MockRouter]:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", "true")
    recorded = session(
        execution("exec-r", slug="invoice", steps=[step("s-1", json.dumps(INVOICE))]),
        execution("job-r", slug="invoice", trigger="job", steps=[step("s-1", INVOICE)]),
    )
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        mock.get(f"/seq/sessions/{SESSION_ID}").mock(
            return_value=httpx.Response(200, content=wire_bytes(recorded))
        )
        yield mock


def test_replay_parses_the_recorded_output_and_fetches_no_usage(
    replay_api: respx.MockRouter,
) -> None:
    trace_route = replay_api.get(url__regex=r".*/trace$")
    with (
        make_client("sync") as client,
        trace_scope_sync(client=client, replay_session_id=SESSION_ID),
    ):
        flow = client.flow(FLOW)
        result = flow.execute("ignored", output_type=Invoice, usage=True)
        job = flow.execute_async("ignored")
        status = job.wait(output_type=InvoiceDict)
        again = job.poll()
    assert result.parsed == Invoice(number="INV-7", total=12.5)
    assert result.usage is None
    assert status.parsed == {"number": "INV-7", "total": 12.5}
    assert again.parsed is None
    assert not trace_route.called


def test_replay_mismatch_raises_with_the_recorded_execution_id(
    replay_api: respx.MockRouter,
) -> None:
    with (
        make_client("sync") as client,
        trace_scope_sync(client=client, replay_session_id=SESSION_ID),
    ):
        flow = client.flow(FLOW)
        with pytest.raises(OutputValidationError) as caught:
            flow.execute("ignored", output_type=list[Invoice])
        flow.execute_async("ignored").wait()
    assert caught.value.execution_id == "exec-r"


# --- one step -------------------------------------------------------------------------------------


def test_step_completed_parse() -> None:
    event = StepCompleted.model_validate(
        {"step_id": "analyse", "output": f"```json\n{json.dumps(INVOICE)}\n```"}
    )
    assert event.parse(Invoice) == Invoice(number="INV-7", total=12.5)
    assert event.parse(InvoiceDict) == INVOICE
    with pytest.raises(OutputValidationError, match="The output of step 'analyse' does not fit"):
        event.parse(list[Invoice])
