"""``max_concurrency=``: requests and open streams in flight are capped; the rest queue in the SDK.

A queued request waits for a slot at most its timeout (the ``pool`` part of an ``httpx.Timeout``)
and then raises :class:`APITimeoutError`, so a flood of tasks never stalls inside the connection
pool with timeouts that stop firing.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import pytest
from client_helpers import KEY, completed

from noukai_sdk import APITimeoutError, AsyncNoukai, Noukai

FLOW = "acme/support/triage"
RESULT = json.dumps(completed()).encode()
STEP_STREAM = (
    b'event: run_started\ndata: {"eventType":"run_started","runId":"r","executionId":"e"}\n\n'
    b'event: flow_completed\ndata: {"eventType":"flow_completed","executionId":"e"}\n\n'
)


class GatedAPI:
    """An asyncio mock API whose answers wait until ``gate`` opens; tracks requests in flight."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.in_flight = 0
        self.most_in_flight = 0
        self.answered = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await self.gate.wait()
        self.in_flight -= 1
        self.answered += 1
        return httpx.Response(200, content=RESULT)


def test_the_default_is_64_and_bad_values_are_rejected() -> None:
    assert Noukai(KEY).max_concurrency == 64
    assert AsyncNoukai(KEY, max_concurrency=8).max_concurrency == 8
    for bad in (0, -1, True, 2.5, "8"):
        with pytest.raises(ValueError, match="max_concurrency must be a positive integer"):
            Noukai(KEY, max_concurrency=bad)  # type: ignore[arg-type]


async def test_3000_concurrent_executes_complete_and_a_short_timeout_fires_while_they_queue() -> (
    None
):
    api = GatedAPI()
    http = httpx.AsyncClient(transport=httpx.MockTransport(api))
    client = AsyncNoukai(KEY, http_client=http, max_retries=0)
    flow = client.flow(FLOW)
    flood = [asyncio.ensure_future(flow.execute("hi")) for _ in range(3000)]
    while api.in_flight < 64:  # let the first 64 reach the server
        await asyncio.sleep(0)

    with pytest.raises(APITimeoutError, match=r"max_concurrency=64") as info:
        # The outer bound only turns a regression (a hang) into a failure.
        await asyncio.wait_for(flow.execute("late", timeout=0.05), 30)
    api.gate.set()
    results = await asyncio.gather(*flood)

    assert info.value.reached_server is False
    assert len(results) == 3000 and all(result.status == "completed" for result in results)
    assert api.most_in_flight == 64
    assert api.answered == 3000


async def test_an_open_stream_holds_its_slot_until_it_is_closed() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/step"):
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=STEP_STREAM
            )
        return httpx.Response(200, content=RESULT)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    flow = AsyncNoukai(KEY, http_client=http, max_concurrency=1, max_retries=0).flow(FLOW)

    async with flow.events("hi") as stream:
        first = await stream.__anext__()
        with pytest.raises(APITimeoutError, match=r"max_concurrency=1"):
            await flow.execute("while the stream is open", timeout=0.05)
    after = await flow.execute("after the stream closed", timeout=0.05)

    assert first.event_type == "run_started"
    assert after.status == "completed"


def test_the_sync_client_queues_threads_beyond_its_bound() -> None:
    lock = threading.Lock()
    release = threading.Event()
    arrived = threading.Semaphore(0)
    counts = {"in_flight": 0, "most": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        with lock:
            counts["in_flight"] += 1
            counts["most"] = max(counts["most"], counts["in_flight"])
        arrived.release()
        release.wait(timeout=30)
        with lock:
            counts["in_flight"] -= 1
        return httpx.Response(200, content=RESULT)

    http = httpx.Client(transport=httpx.MockTransport(answer))
    flow = Noukai(KEY, http_client=http, max_concurrency=4, max_retries=0).flow(FLOW)
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(flow.execute("hi"))) for _ in range(40)
    ]
    for thread in threads:
        thread.start()
    for _ in range(4):  # the first four reach the server
        assert arrived.acquire(timeout=30)

    with pytest.raises(APITimeoutError, match=r"max_concurrency=4"):
        flow.execute("late", timeout=httpx.Timeout(30.0, pool=0.05))
    release.set()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 40
    assert counts["most"] == 4
