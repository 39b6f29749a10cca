"""``flow.map()`` without a server: option checks, inputs and
the adaptive limit."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from noukai_sdk import AsyncNoukai, BatchResult, Noukai
from noukai_sdk._core.batch import AdaptiveLimit

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
