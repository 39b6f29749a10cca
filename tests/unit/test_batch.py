"""``flow.map()`` without a server: option checks, inputs, the schedule's decisions, the
adaptive limit, and the workers (bounded in flight, 429 pauses, fail-fast, callbacks, closing)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from client_helpers import SkippingClock

from noukai_sdk import AsyncNoukai, BatchItem, BatchResult, Noukai, NoukaiError, RateLimitError
from noukai_sdk._core.batch import WAIT_FOR_SLOT, AdaptiveLimit, BatchSchedule

KEY = "nk_test_batch_0123456789"


def answering(request: httpx.Request) -> httpx.Response:
    message = json.loads(request.content)["message"]
    body = {"status": "completed", "result": f"echo {message}", "flowId": "f", "blockCount": 1}
    return httpx.Response(200, json=body)


def sync_flow() -> Any:
    http = httpx.Client(transport=httpx.MockTransport(answering))
    return Noukai(KEY, http_client=http).flow("o/p/s")


def async_flow() -> Any:
    http = httpx.AsyncClient(transport=httpx.MockTransport(answering))
    return AsyncNoukai(KEY, http_client=http).flow("o/p/s")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"concurrency": 0}, "concurrency must be an int >= 1"),
        ({"concurrency": True}, "concurrency must be an int >= 1"),
        ({"max_attempts": 0}, "max_attempts must be an int >= 1"),
        ({"mode": "threads"}, "mode must be 'execute' or 'jobs'"),
    ],
)
def test_options_that_cannot_run_are_refused_before_anything_starts(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sync_flow().map(["a"], **options)


def test_a_single_input_instead_of_a_list_is_refused() -> None:
    with pytest.raises(TypeError, match="iterable of inputs"):
        sync_flow().map("one message")


def test_an_input_that_is_neither_a_message_nor_a_dict_is_a_failed_item() -> None:
    batch = sync_flow().map(["a", 42, "b"])
    assert [item.ok for item in batch.items] == [True, False, True]
    assert isinstance(batch.items[1].error, TypeError)


def test_items_come_back_in_input_order_on_both_clients() -> None:
    messages = [f"m{i}" for i in range(50)]
    expected = [f"echo {m}" for m in messages]
    assert [r.output for r in sync_flow().map(messages, concurrency=7).results()] == expected
    batch: BatchResult[Any] = asyncio.run(async_flow().map(messages, concurrency=7))
    assert [r.output for r in batch.results()] == expected


def test_a_rate_limit_halves_the_limit_which_grows_back_to_what_the_server_accepted() -> None:
    limit = AdaptiveLimit(50)
    limit.rate_limited(in_flight=40)
    assert limit.slots == 20 and limit.known_good == 39
    for _ in range(900):
        limit.succeeded()
    assert limit.slots == 39  # back to the level that worked, not beyond it yet
    for _ in range(100):
        limit.succeeded()
    assert limit.slots == 40  # a long run of successes probes one more


def test_the_limit_never_drops_below_one() -> None:
    limit = AdaptiveLimit(4)
    for _ in range(10):
        limit.rate_limited(in_flight=1)
    assert limit.slots == 1


def test_the_schedule_admits_up_to_the_limit_then_asks_to_wait_for_a_slot() -> None:
    schedule = BatchSchedule(
        ["a", "b", "c"], common={}, concurrency=2, max_attempts=3, fail_fast=False
    )
    items = [taken[0] for taken in iter(schedule.next_item, None)]
    assert [item.index for item in items] == [0, 1, 2] and schedule.next_item() is None
    assert schedule.admit(items[0], now=0.0) == 0.0
    assert schedule.admit(items[1], now=0.0) == 0.0
    assert schedule.admit(items[2], now=0.0) == WAIT_FOR_SLOT
    schedule.release()
    assert schedule.admit(items[2], now=0.0) == 0.0
    assert [item.attempts for item in items] == [1, 1, 1]


def test_a_rate_limit_pauses_every_worker_and_is_retried_until_out_of_attempts() -> None:
    schedule = BatchSchedule(["a"], common={}, concurrency=4, max_attempts=2, fail_fast=False)
    taken = schedule.next_item()
    assert taken is not None
    item, arguments = taken
    assert arguments == {"message": "a"}
    limited = RateLimitError("slow down", status_code=429, retry_after=2.5)
    assert schedule.admit(item, now=10.0) == 0.0
    schedule.release()
    assert schedule.rate_limited(item, limited, now=10.0) is True
    assert schedule.admit(item, now=11.0) == 1.5  # the rest of the pause, for any item
    assert schedule.admit(item, now=12.5) == 0.0
    schedule.release()
    assert schedule.rate_limited(item, limited, now=13.0) is False
    assert item.error is limited and item.attempts == 2


def test_fail_fast_stops_the_schedule_at_the_first_error() -> None:
    schedule = BatchSchedule(
        ["a", 42, "b"], common={}, concurrency=1, max_attempts=1, fail_fast=True
    )
    first, second = schedule.next_item(), schedule.next_item()
    assert first is not None and second is not None
    assert not schedule.stops_batch(first[0])
    assert second[1] is None and isinstance(second[0].error, TypeError)
    assert schedule.stops_batch(second[0])
    assert schedule.next_item() is None


class ScriptedServer:
    """Answers each message per a script (429s, errors), counting calls and calls in flight."""

    def __init__(self, script: dict[str, list[int]] | None = None) -> None:
        self.script = script or {}
        self.calls: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        message = json.loads(request.content)["message"]
        self.calls.append(message)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            planned = self.script.get(message, [])
            status = planned.pop(0) if planned else 200
            if status == 429:
                return httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "slow"})
            if status != 200:
                return httpx.Response(status, json={"error": "bad", "code": "BAD"})
            return answering(request)
        finally:
            self.in_flight -= 1

    def flow(self) -> Any:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self))
        return AsyncNoukai(KEY, http_client=http).flow("o/p/s")


def test_workers_keep_concurrency_calls_in_flight_and_the_order(fake_clock: SkippingClock) -> None:
    server = ScriptedServer()
    batch = asyncio.run(server.flow().map([f"m{i}" for i in range(40)], concurrency=6))
    assert [r.output for r in batch.results()] == [f"echo m{i}" for i in range(40)]
    assert server.most_in_flight == 6 and len(server.calls) == 40


def test_a_429_pauses_the_batch_for_its_retry_after_and_retries_the_item(
    fake_clock: SkippingClock,
) -> None:
    server = ScriptedServer({"m3": [429, 429]})
    batch = asyncio.run(server.flow().map([f"m{i}" for i in range(8)], concurrency=4))
    assert batch.items[3].ok and batch.items[3].attempts == 3
    assert server.calls.count("m3") == 3
    # The two pauses follow each other: the retry waits out the first Retry-After of 7 s.
    assert fake_clock.skipped >= 13.9 and max(fake_clock.sleeps) > 6.9


def test_other_errors_are_kept_per_item(fake_clock: SkippingClock) -> None:
    server = ScriptedServer({"m1": [400]})
    batch = asyncio.run(server.flow().map(["m0", "m1", "m2"]))
    assert [item.ok for item in batch.items] == [True, False, True]
    assert batch.items[1].attempts == 1


def test_fail_fast_starts_nothing_after_the_first_error(fake_clock: SkippingClock) -> None:
    server = ScriptedServer({"m1": [400]})
    with pytest.raises(NoukaiError):
        asyncio.run(server.flow().map([f"m{i}" for i in range(30)], concurrency=1, fail_fast=True))
    assert server.calls == ["m0", "m1"]


def test_a_raising_callback_stops_the_batch_with_its_error(fake_clock: SkippingClock) -> None:
    server = ScriptedServer()

    def stop(item: BatchItem[Any]) -> None:
        if item.index == 2:
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        asyncio.run(server.flow().map([f"m{i}" for i in range(30)], concurrency=1, on_item=stop))
    assert server.calls == ["m0", "m1", "m2"]


def test_an_as_completed_consumer_sees_each_item_before_its_worker_goes_on(
    fake_clock: SkippingClock,
) -> None:
    server = ScriptedServer()

    async def first_two() -> list[int]:
        seen: list[int] = []
        items = server.flow().map([f"m{i}" for i in range(30)], concurrency=1, as_completed=True)
        async with contextlib.aclosing(items):
            async for item in items:
                seen.append(item.index)
                if len(seen) == 2:
                    break
        return seen

    assert asyncio.run(first_two()) == [0, 1]
    assert server.calls == ["m0", "m1"]


def test_closing_an_as_completed_batch_leaves_no_task_behind(fake_clock: SkippingClock) -> None:
    server = ScriptedServer()

    async def leave_early() -> int:
        before = len(asyncio.all_tasks())
        items = server.flow().map([f"m{i}" for i in range(100)], concurrency=10, as_completed=True)
        async with contextlib.aclosing(items):
            async for _ in items:
                break
        return len(asyncio.all_tasks()) - before

    assert asyncio.run(leave_early()) == 0


def test_a_huge_lazy_input_is_read_only_as_far_as_the_workers_got(
    fake_clock: SkippingClock,
) -> None:
    server = ScriptedServer()
    read: list[int] = []

    def endless() -> Iterator[str]:
        index = 0
        while True:
            read.append(index)
            yield f"m{index}"
            index += 1

    async def take(count: int) -> None:
        items = server.flow().map(endless(), concurrency=4, as_completed=True)
        async with contextlib.aclosing(items):
            async for item in items:
                if item.index == count - 1:
                    break

    asyncio.run(take(20))
    assert 20 <= len(read) <= 20 + 4 + 4  # workers, plus a queue of finished items
