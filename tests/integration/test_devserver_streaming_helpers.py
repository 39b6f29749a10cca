"""``stream_text()``, ``stream_object()`` and ``auto_resume`` over real TCP.

Text and objects run against the dev server process; ``auto_resume`` runs against a scripted
server that cuts its first stream after the k-th event, for every k.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import pytest
from cutting_proxy import CuttingProxy
from flaky_step_server import ALL_EVENTS, EXECUTION_ID, FlakyStepServer
from pydantic import BaseModel

from noukai_sdk import (
    AsyncNoukai,
    FlowExecutionError,
    Noukai,
    OutputValidationError,
    StreamInterruptedError,
    trace_scope_sync,
)
from noukai_sdk._core.usage import Usage

STREAMING = "demo/examples/streaming"


class Analysis(BaseModel):
    text: str
    word_count: int
    char_count: int
    audience: str


class Order(BaseModel):
    id: int
    items: list[str]
    note: str


ORDER = {"id": 7, "items": ["tea", "scones", "jam"], "note": "to the garden, please"}


def grows(snapshots: list[Any]) -> bool:
    def extends(old: Any, new: Any) -> bool:
        if isinstance(old, dict):
            return isinstance(new, dict) and all(extends(v, new.get(k)) for k, v in old.items())
        if isinstance(old, list):
            return isinstance(new, list) and all(
                extends(a, b) for a, b in zip(old, new[: len(old)], strict=True)
            )
        if isinstance(old, str):
            return isinstance(new, str) and new.startswith(old)
        return bool(old == new)

    return all(a != b and extends(a, b) for a, b in itertools.pairwise(snapshots))


def test_stream_text_yields_the_words_and_the_result_execute_gives(client: Noukai) -> None:
    flow = client.flow(STREAMING)
    with flow.stream_text("the quick brown fox", session_id="s-text") as stream:
        deltas = list(stream)
    assert deltas == ["the", " quick", " brown", " fox"]
    assert stream.text == "the quick brown fox"
    result = stream.final_result()
    executed = flow.execute("the quick brown fox", session_id="s-text")
    assert result.model_dump(exclude={"execution_id"}) == executed.model_dump(
        exclude={"execution_id"}
    )
    assert result.execution_id == stream.execution_id and result.session_id == "s-text"
    steps = list(flow.steps("the quick brown fox"))
    assert stream.usage == Usage.sum_steps(steps) and stream.usage.total_tokens > 0


async def test_stream_text_async(async_client: AsyncNoukai) -> None:
    flow = async_client.flow("test/flows/three-step")
    async with flow.stream_text("hi there", step="two") as stream:
        deltas = [delta async for delta in stream]
    assert "".join(deltas) == "2 1 hi there" and len(deltas) == 4
    result = await stream.final_result()
    assert result.block_count == 3 and result.result["words"] == 2


def test_a_failing_flow_raises_and_break_stops_early(client: Noukai) -> None:
    with (
        pytest.raises(FlowExecutionError, match="always fails"),
        client.flow("demo/examples/failing").stream_text("go") as failing,
    ):
        for _ in failing:
            pass
    assert failing.text.startswith("Preparing")
    with client.flow(STREAMING).stream_text("one two three four") as stream:
        first = next(iter(stream))
    assert first == "one" and stream.text == "one"


def test_tool_pauses_are_answered_by_the_handler(client: Noukai) -> None:
    def weather(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"tool_call_id": call["id"], "output": "sunny"} for call in calls]

    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    flow = client.flow("demo/examples/tools-enabled")
    with flow.stream_text("Paris?", tools=tools, tool_handler=weather) as stream:
        text = "".join(stream)
    assert "sunny" in text and stream.final_result().status == "completed"


def test_stream_object_from_streamed_json_text(client: Noukai) -> None:
    message = json.dumps(ORDER)  # the streaming flow sends its message back word by word
    with client.flow(STREAMING).stream_object(Order, message) as stream:
        snapshots = list(stream)
    assert grows(snapshots) and snapshots[-1] == ORDER and len(snapshots) > 3
    assert stream.final_object() == Order.model_validate(ORDER)
    with client.flow(STREAMING).stream_object(Order, message[:-9]) as cut:
        assert grows(list(cut))
    with pytest.raises(OutputValidationError, match="does not fit Order") as raised:
        cut.final_object()
    assert raised.value.raw_output == message[:-9]


async def test_stream_object_whole_output_async(async_client: AsyncNoukai) -> None:
    flow = async_client.flow("demo/examples/structured-output")
    async with flow.stream_object(Analysis, "two words", parameters={"audience": "kids"}) as s:
        snapshots = [snapshot async for snapshot in s]
    analysis = await s.final_object()
    assert snapshots == [analysis.model_dump()]
    assert analysis.word_count == 2 and analysis.audience == "kids"


def test_recorded_runs_replay_through_the_helpers(
    client: Noukai, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", "1")
    flow = client.flow(STREAMING)
    with trace_scope_sync(client=client) as capture:
        with flow.stream_text("recorded words") as live:
            list(live)
        with flow.stream_object(Order, json.dumps(ORDER)) as live_object:
            live_order = live_object.final_object()
    with trace_scope_sync(client=client, replay_session_id=capture.session_id):
        with flow.stream_text("anything") as replayed:
            deltas = list(replayed)
        with flow.stream_object(Order, "anything") as replayed_object:
            snapshots = list(replayed_object)
    assert deltas == ["recorded words"]  # recordings keep step outputs, not the deltas
    assert replayed.final_result().result == live.final_result().result
    assert snapshots[-1] == ORDER and replayed_object.final_object() == live_order


# --- auto_resume against a server that drops the connection ------------------------------------


def frames_of(events: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(e.type, e.to_wire()) for e in events]


def expected_frames() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for frame in ALL_EVENTS:
        lines = frame.decode().strip().split("\n")
        out.append((lines[0].removeprefix("event: "), json.loads(lines[1].removeprefix("data: "))))
    return out


def flaky_client(kind: str, port: int, log: list[dict[str, Any]]) -> Any:
    cls = Noukai if kind == "sync" else AsyncNoukai
    return cls(
        "nk_test", env="dev", dev_port=port, org="acme", project="main", log_handler=log.append
    )


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The resume back-off is recorded, not waited for (the cut is what is under test)."""
    waits: list[float] = []
    real_async_sleep = asyncio.sleep

    async def async_sleep(seconds: float, *args: Any) -> None:
        waits.append(seconds)
        await real_async_sleep(0)

    monkeypatch.setattr(time, "sleep", waits.append)
    monkeypatch.setattr(asyncio, "sleep", async_sleep)
    return waits


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_auto_resume_after_the_kth_event_for_every_k(kind: str, quick_backoff: list[float]) -> None:
    expected = expected_frames()
    for k in range(1, len(ALL_EVENTS)):
        log: list[dict[str, Any]] = []
        with FlakyStepServer(cut_after=k).running() as server:
            client = flaky_client(kind, server.port, log)
            flow = client.flow("flaky")
            if kind == "sync":
                with flow.events("hi", run_remaining=True, auto_resume=1) as stream:
                    events = list(stream)
            else:

                async def collect(flow: Any) -> list[Any]:
                    async with flow.events("hi", run_remaining=True, auto_resume=1) as stream:
                        return [event async for event in stream]

                events = asyncio.run(collect(flow))
        got = frames_of(events)
        assert [kind_ for kind_, _ in got] == [kind_ for kind_, _ in expected], k
        for (_, got_fields), (_, want) in zip(got, expected, strict=True):
            assert {key: got_fields.get(key) for key in want} == want, k
        assert len(server.requests) == 2
        assert server.requests[1]["executionId"] == EXECUTION_ID
        assert [e["reason"] for e in log if e["phase"] == "retry"] == ["stream_interrupted"]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_stream_text_survives_drops_with_its_text_whole(
    kind: str, quick_backoff: list[float]
) -> None:
    for k in range(2, len(ALL_EVENTS)):
        with FlakyStepServer(cut_after=k, drops=2).running() as server:
            client = flaky_client(kind, server.port, [])
            if kind == "sync":
                with client.flow("flaky").stream_text("hi", auto_resume=2) as stream:
                    deltas = list(stream)
                    result = stream.final_result()
            else:

                async def collect(client: Any) -> tuple[list[str], Any]:
                    async with client.flow("flaky").stream_text("hi", auto_resume=2) as stream:
                        return [d async for d in stream], await stream.final_result()

                deltas, result = asyncio.run(collect(client))
        assert deltas == ["Once ", "upon ", "a time."], k
        assert result.result == "a time." and result.execution_id == EXECUTION_ID


def test_without_auto_resume_the_cut_is_an_error() -> None:
    with FlakyStepServer(cut_after=3).running() as server:
        client = flaky_client("sync", server.port, [])
        with (
            pytest.raises(StreamInterruptedError) as raised,
            client.flow("flaky").events("hi", run_remaining=True) as stream,
        ):
            list(stream)
    assert raised.value.execution_id == EXECUTION_ID and raised.value.step_index == 0


# --- auto_resume against the real dev server behind a cutting proxy -------------------------------


def through_proxy(kind: str, dev_server: Any, cut_after: int, use: Any) -> tuple[Any, CuttingProxy]:
    """``use(flow)`` on a client that reaches the dev server through a proxy cutting the first
    ``/step`` stream after ``cut_after`` events (awaited for the asyncio client)."""
    with CuttingProxy(dev_server.port, cut_after=cut_after).running() as proxy:
        cls = Noukai if kind == "sync" else AsyncNoukai
        sdk = cls(dev_server.api_key, env="dev", dev_port=proxy.port)
        if kind == "sync":
            with sdk:
                return use(sdk.flow), proxy

        async def run() -> Any:
            async with sdk:
                return await use(sdk.flow)

        return asyncio.run(run()), proxy


def first_stream_events(dev_server: Any, flow: str, **options: Any) -> int:
    """How many events the first ``/step`` stream of ``flow`` carries (so every cut is tried)."""
    with (
        Noukai(dev_server.api_key, env="dev", dev_port=dev_server.port) as sdk,
        sdk.flow(flow).events("one two three four", **options) as stream,
    ):
        count = 0
        for event in stream:
            count += 1
            if event.type in ("step_paused", "flow_completed"):
                return count
    return count


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_stream_text_resumes_a_real_run_cut_after_every_event(
    kind: str, dev_server: Any, quick_backoff: list[float]
) -> None:
    expected = ["one", " two", " three", " four"]
    total = first_stream_events(dev_server, STREAMING, run_remaining=True)
    assert total > len(expected)

    def sync_use(flows: Any) -> Any:
        with flows(STREAMING).stream_text("one two three four", auto_resume=1) as stream:
            return list(stream), stream.final_result()

    async def async_use(flows: Any) -> Any:
        async with flows(STREAMING).stream_text("one two three four", auto_resume=1) as stream:
            return [d async for d in stream], await stream.final_result()

    for k in range(1, total):
        (deltas, result), proxy = through_proxy(
            kind, dev_server, k, sync_use if kind == "sync" else async_use
        )
        assert proxy.cuts == 1, k
        assert deltas == expected, k
        assert result.status == "completed" and result.result == "one two three four", k


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_steps_resume_a_real_run_cut_after_every_event(
    kind: str, dev_server: Any, quick_backoff: list[float]
) -> None:
    flow = "demo/examples/two-step"
    with Noukai(dev_server.api_key, env="dev", dev_port=dev_server.port) as sdk:
        expected = [(s.step_id, s.output) for s in sdk.flow(flow).steps("one two three four")]
    total = first_stream_events(dev_server, flow)

    def sync_use(flows: Any) -> Any:
        with flows(flow).steps("one two three four", auto_resume=1) as steps:
            return [(s.step_id, s.output) for s in steps]

    async def async_use(flows: Any) -> Any:
        async with flows(flow).steps("one two three four", auto_resume=1) as steps:
            return [(s.step_id, s.output) async for s in steps]

    for k in range(1, total):
        got, proxy = through_proxy(kind, dev_server, k, sync_use if kind == "sync" else async_use)
        assert proxy.cuts == 1, k
        assert got == expected, k


# --- the streaming-structured demo flow, made for stream_object ----------------------------------

STRUCTURED = "demo/examples/streaming-structured"


class Extract(BaseModel):
    title: str
    word_count: int
    char_count: int
    summary: str


EXTRACT = Extract(
    title="ship it today",
    word_count=3,
    char_count=13,
    summary="A message of 3 words: ship it today",
)


def test_stream_object_on_the_streaming_structured_flow(client: Noukai) -> None:
    with client.flow(STRUCTURED).stream_object(Extract, "ship it today") as stream:
        snapshots = list(stream)
    assert grows(snapshots) and len(snapshots) > 1
    assert snapshots[-1] == EXTRACT.model_dump()
    assert stream.final_object() == EXTRACT
    assert json.loads(stream.text) == EXTRACT.model_dump()
    assert stream.final_result().result == EXTRACT.model_dump()


async def test_stream_text_and_object_on_the_streaming_structured_flow_async(
    async_client: AsyncNoukai,
) -> None:
    flow = async_client.flow(STRUCTURED)
    async with flow.stream_text("ship it today") as text_stream:
        deltas = [delta async for delta in text_stream]
    assert len(deltas) > 1 and Extract.model_validate_json("".join(deltas)) == EXTRACT
    async with flow.stream_object(Extract, "ship it today") as objects:
        snapshots = [snapshot async for snapshot in objects]
    assert grows(snapshots) and await objects.final_object() == EXTRACT
    assert objects.usage == text_stream.usage
