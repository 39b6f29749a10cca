"""``flow.map()`` against the dev server, sync and async: order, per-item errors, 429 slowdown,
fail-fast, cancellation, the job queue, and a large batch streamed to a JSONL file."""

from __future__ import annotations

import asyncio
import json
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import TEST_KEYS, DevServerProcess

from noukai_sdk import (
    AsyncNoukai,
    BatchError,
    BatchItem,
    FlowExecutionError,
    FlowNotFoundError,
    Noukai,
    RateLimitError,
)

HELLO = "demo/examples/hello-world"
SLOW = "demo/examples/slow"
A_FEW_MS = {"delay_ms": 3}
"""Keeps each run in flight for a moment, so that concurrent items overlap on the server."""


def inputs(count: int) -> list[Any]:
    """``count`` messages, every 10th item a call that fails (a version that does not exist)."""
    return [
        {"message": f"item {i}", "version": 99} if i % 10 == 7 else f"item {i}"
        for i in range(count)
    ]


def check_outcome(items: list[BatchItem[Any]], count: int) -> None:
    assert [item.index for item in items] == list(range(count))
    for item in items:
        if item.index % 10 == 7:
            assert isinstance(item.error, FlowNotFoundError) and item.result is None
        else:
            assert item.error is None, item.error
            assert item.result.output == f"After a while: item {item.index}"


def test_a_thousand_items_throttled_by_the_server_complete_in_order(
    dev_server: DevServerProcess,
) -> None:
    # This key allows ten requests in flight: 50 concurrent items get 429s with Retry-After, the
    # batch pauses and narrows to what the server accepts, and every item still completes.
    progress: list[tuple[int, int | None, int]] = []
    with Noukai(TEST_KEYS["ten_slots"], env="dev", dev_port=dev_server.port) as client:
        batch = client.flow(SLOW).map(
            inputs(1000),
            concurrency=50,
            parameters=A_FEW_MS,
            on_progress=lambda *p: progress.append(p),
        )
    check_outcome(batch.items, 1000)
    assert not any(isinstance(item.error, RateLimitError) for item in batch.items)
    assert any(item.attempts > 1 for item in batch.items)  # some were throttled and retried
    assert progress[-1] == (1000, 1000, 100) and len(progress) == 1000
    assert len(batch.failed) == 100 and len(batch.succeeded) == 900
    with pytest.raises(BatchError, match="100 of 1000 batch items failed") as caught:
        batch.results()
    assert [item.index for item in caught.value.failed][:3] == [7, 17, 27]


async def test_the_async_client_maps_the_same_way(dev_server: DevServerProcess) -> None:
    async with AsyncNoukai(TEST_KEYS["ten_slots"], env="dev", dev_port=dev_server.port) as client:
        batch = await client.flow(SLOW).map(inputs(300), concurrency=50, parameters=A_FEW_MS)
    check_outcome(batch.items, 300)
    assert not any(isinstance(item.error, RateLimitError) for item in batch.items)
    assert any(item.attempts > 1 for item in batch.items)


def test_every_item_succeeding_gives_the_results_in_order(client: Any) -> None:
    batch = client.flow(HELLO).map(["a", "b", "c"], concurrency=2)
    assert [result.output for result in batch.results()] == [
        "Hello! You said: a",
        "Hello! You said: b",
        "Hello! You said: c",
    ]


def test_common_keyword_arguments_apply_to_every_item(client: Any) -> None:
    batch = client.flow(HELLO).map(["a", {"message": "b", "version": 99}], version="production")
    assert batch.items[0].ok and isinstance(batch.items[1].error, FlowNotFoundError)


def test_a_failed_run_is_a_failed_item_that_keeps_its_result(client: Any) -> None:
    batch = client.flow("demo/examples/failing").map(["x"])
    (item,) = batch.items
    assert isinstance(item.error, FlowExecutionError) and item.error.code == "FLOW_FAILED"
    assert item.result.status == "failed"


def test_fail_fast_raises_the_first_error_and_stops_submitting(client: Any) -> None:
    seen: list[int] = []
    with pytest.raises(FlowNotFoundError):
        client.flow(HELLO).map(
            ["ok", {"message": "bad", "version": 99}, *["later"] * 200],
            concurrency=1,
            fail_fast=True,
            on_item=lambda item: seen.append(item.index),
        )
    assert seen == [0]


async def test_fail_fast_on_the_async_client(async_client: Any) -> None:
    with pytest.raises(FlowNotFoundError):
        await async_client.flow(HELLO).map(
            [{"message": "bad", "version": 99}, *["later"] * 50], concurrency=4, fail_fast=True
        )


def test_as_completed_yields_items_as_they_finish(client: Any) -> None:
    indexes = sorted(
        item.index for item in client.flow(HELLO).map(["a", "b", "c"], as_completed=True)
    )
    assert indexes == [0, 1, 2]


def test_leaving_a_blocking_batch_early_leaves_no_thread_behind(client: Any) -> None:
    before = threading.active_count()
    items = client.flow(HELLO).map([f"m{i}" for i in range(500)], concurrency=8, as_completed=True)
    for item in items:
        assert item.ok
        break
    items.close()
    assert threading.active_count() == before


async def test_cancelling_an_async_batch_leaves_no_task_behind(async_client: Any) -> None:
    before = len(asyncio.all_tasks())
    batch = asyncio.ensure_future(
        async_client.flow("demo/examples/slow").map([f"m{i}" for i in range(100)], concurrency=10)
    )
    await asyncio.sleep(0.3)
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch
    assert len(asyncio.all_tasks()) == before


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_job_queue_mode_keeps_submissions_bounded(
    dev_server: DevServerProcess, kind: str
) -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    events: list[dict[str, Any]] = []

    def on_log(event: dict[str, Any]) -> None:
        nonlocal in_flight, peak
        events.append(event)
        if event["phase"] == "response" and event["method"] == "POST":
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)

    def on_item(item: BatchItem[Any]) -> None:
        nonlocal in_flight
        with lock:
            in_flight -= 1

    options: dict[str, Any] = {"env": "dev", "dev_port": dev_server.port, "log_handler": on_log}
    messages = [f"job {i}" for i in range(30)]
    common: dict[str, Any] = {"mode": "jobs", "concurrency": 4, "on_item": on_item}
    if kind == "sync":
        with Noukai(dev_server.api_key, **options) as client:
            batch = client.flow(HELLO).map(messages, poll_interval=0.02, **common)
    else:

        async def run() -> Any:
            async with AsyncNoukai(dev_server.api_key, **options) as client:
                return await client.flow(HELLO).map(messages, poll_interval=0.02, **common)

        batch = asyncio.run(run())
    assert [item.result.result for item in batch.items] == [
        f"Hello! You said: {m}" for m in messages
    ]
    assert 1 <= peak <= 4
    assert any(event["method"] == "GET" and "/jobs/" in event["path"] for event in events)


def test_a_batch_streamed_to_a_jsonl_file_keeps_no_items(client: Any, tmp_path: Path) -> None:
    output = tmp_path / "results.jsonl"
    summary = client.flow(HELLO).map(
        (f"row {i}" for i in range(1000)), concurrency=16, output=output
    )
    assert summary.items == [] and summary.done == 1000 and summary.failed_count == 0
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert sorted(row["index"] for row in rows) == list(range(1000))
    assert all(
        row["ok"] and row["output"] == f"Hello! You said: row {row['index']}" for row in rows
    )


def _echo(request: httpx.Request) -> httpx.Response:
    message = json.loads(request.content)["message"]
    body = {"status": "completed", "result": f"echo {message}", "flowId": "f", "blockCount": 1}
    return httpx.Response(200, json=body)


def jsonl_peak(count: int, output: Path) -> int:
    tracemalloc.start()
    try:
        Noukai(
            "nk_test_batch", http_client=httpx.Client(transport=httpx.MockTransport(_echo))
        ).flow("o/p/s").map((f"row {i}" for i in range(count)), concurrency=8, output=output)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_ten_thousand_items_stream_to_a_jsonl_file_in_flat_memory(tmp_path: Path) -> None:
    small = jsonl_peak(1_000, tmp_path / "small.jsonl")
    large = jsonl_peak(10_000, tmp_path / "large.jsonl")
    rows = (tmp_path / "large.jsonl").read_text().splitlines()
    assert len(rows) == 10_000 and json.loads(rows[0])["ok"]
    assert large < small * 2  # ten times the items, not ten times the memory
