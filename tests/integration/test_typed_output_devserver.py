"""Typed output and usage against a real dev-server process, as the README uses them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from pydantic import BaseModel
from relay_apps import serve_wsgi
from typing_extensions import TypedDict

from noukai_sdk import (
    AsyncNoukai,
    AsyncRelayFlow,
    ExecuteResult,
    Noukai,
    OutputValidationError,
    RelayFlow,
    Usage,
    trace_scope_sync,
)
from noukai_sdk.adapters.relay import flow_relay_blueprint
from noukai_sdk.devserver.process import DevServerProcess

STRUCTURED = "demo/examples/structured-output"
ECHO = "demo/examples/hello-world"
# hello-world's only block answers with the message itself, so a test can choose the text output.
ECHO_MESSAGE = {"answer": {"template": "{message}"}}


class Analysis(BaseModel):
    text: str
    word_count: int
    char_count: int
    audience: str


@dataclass
class Counts:
    word_count: int
    char_count: int


class Words(TypedDict):
    text: str
    word_count: int


class Item(BaseModel):
    sku: str
    quantity: int


def test_a_model_from_a_json_object_output(client: Noukai) -> None:
    result = client.flow(STRUCTURED).execute(
        "the cat sat", parameters={"audience": "kids"}, output_type=Analysis
    )
    assert isinstance(result, ExecuteResult)
    assert result.parsed == Analysis(
        text="the cat sat", word_count=3, char_count=11, audience="kids"
    )
    assert result.output == result.parsed.model_dump()


async def test_a_dataclass_and_a_typed_dict_on_the_async_client(async_client: AsyncNoukai) -> None:
    flow = async_client.flow(STRUCTURED)
    counts = await flow.execute("a b", parameters={"audience": "x"}, output_type=Counts)
    words = await flow.execute("a b", parameters={"audience": "x"}, output_type=Words)
    assert isinstance(counts, ExecuteResult) and isinstance(words, ExecuteResult)
    assert counts.parsed == Counts(word_count=2, char_count=3)
    assert words.parsed == {"text": "a b", "word_count": 2}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps([{"sku": "A-1", "quantity": 2}, {"sku": "B-2", "quantity": 1}]),
        "```json\n"
        + json.dumps([{"sku": "A-1", "quantity": 2}, {"sku": "B-2", "quantity": 1}])
        + "\n```",
    ],
    ids=["json-string", "fenced-block"],
)
def test_a_list_of_models_from_a_string_output(client: Noukai, text: str) -> None:
    result = client.flow(ECHO).execute(text, block_overrides=ECHO_MESSAGE, output_type=list[Item])
    assert isinstance(result, ExecuteResult)
    assert result.output == text
    assert result.parsed == [Item(sku="A-1", quantity=2), Item(sku="B-2", quantity=1)]


async def test_a_mismatch_raises_with_the_raw_output(async_client: AsyncNoukai) -> None:
    with pytest.raises(OutputValidationError) as caught:
        await async_client.flow(STRUCTURED).execute("a b", output_type=list[Item])
    error = caught.value
    assert error.execution_id
    assert error.raw_output["text"] == "a b"
    assert error.errors and error.errors[0]["type"] == "list_type"


def test_text_that_is_not_json_raises(client: Noukai) -> None:
    with pytest.raises(OutputValidationError, match="is text that is not JSON"):
        client.flow(ECHO).execute("no json here", block_overrides=ECHO_MESSAGE, output_type=Item)


def test_a_failed_run_is_returned_unvalidated(client: Noukai) -> None:
    result = client.flow("demo/examples/failing").execute("x", output_type=Analysis)
    assert isinstance(result, ExecuteResult)
    assert result.status == "failed"
    assert result.parsed is None


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_job_wait_parses_the_result(
    kind: str, client: Noukai, async_client: AsyncNoukai
) -> None:
    if kind == "sync":
        status = (
            client.flow(STRUCTURED)
            .execute_async("one two")
            .wait(timeout=30, poll_interval=0.05, output_type=Counts)
        )
    else:
        job = await async_client.flow(STRUCTURED).execute_async("one two")
        status = await job.wait(timeout=30, poll_interval=0.05, output_type=Counts)
    assert status.status == "completed"
    assert status.parsed == Counts(word_count=2, char_count=7)


def test_step_completed_parse(client: Noukai) -> None:
    (step,) = list(client.flow(STRUCTURED).steps("a b c", parameters={"audience": "all"}))
    assert step.parse(Counts) == Counts(word_count=3, char_count=5)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_usage_true_is_the_trace_usage(
    kind: str, client: Noukai, async_client: AsyncNoukai
) -> None:
    if kind == "sync":
        flow = client.flow("demo/examples/two-step")
        result = flow.execute("the cat sat on the mat", usage=True)
        assert isinstance(result, ExecuteResult) and result.execution_id
        trace_usage = flow.run(result.execution_id).trace().usage
    else:
        async_flow = async_client.flow("demo/examples/two-step")
        result = await async_flow.execute("the cat sat on the mat", usage=True)
        assert isinstance(result, ExecuteResult) and result.execution_id
        trace_usage = (await async_flow.run(result.execution_id).trace()).usage
    assert isinstance(result.usage, Usage)
    assert result.usage == trace_usage
    assert result.usage.total_tokens > 0
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    assert result.usage.cost_usd > 0


def test_replay_parses_the_recorded_output(client: Noukai, monkeypatch: pytest.MonkeyPatch) -> None:
    with trace_scope_sync(client=client) as capture:
        live = client.flow(STRUCTURED).execute("a b", parameters={"audience": "x"})
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", "1")
    with trace_scope_sync(client=client, replay_session_id=capture.session_id):
        replayed = client.flow(STRUCTURED).execute("ignored", output_type=Analysis, usage=True)
    assert isinstance(live, ExecuteResult) and isinstance(replayed, ExecuteResult)
    assert replayed.parsed == Analysis.model_validate(live.output)
    assert replayed.usage is None


@pytest.fixture(scope="module")
def structured_relay(dev_server: DevServerProcess) -> Iterator[str]:
    """A Flask relay to the structured-output flow, served in a thread."""
    app = Flask(__name__)
    with Noukai(dev_server.api_key, env="dev", dev_port=dev_server.port) as client:
        app.register_blueprint(
            flow_relay_blueprint(
                client=client,
                org="demo",
                project="examples",
                slug="structured-output",
                authorize=lambda request: True,
            )
        )
        with serve_wsgi(app) as base_url:
            yield base_url + "/agent/execute"


def test_relay_flows_parse_the_output(structured_relay: str) -> None:
    with RelayFlow(structured_relay) as relay:
        result = relay.execute("one two three", output_type=Counts)
    assert isinstance(result, ExecuteResult)
    assert result.parsed == Counts(word_count=3, char_count=13)


async def test_async_relay_flow_mismatch(structured_relay: str) -> None:
    async with AsyncRelayFlow(structured_relay) as relay:
        with pytest.raises(OutputValidationError, match="does not fit Item"):
            await relay.execute("one two three", output_type=Item)
