"""Helpers shared by the client tests: build either client and call it the same way."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

from noukai_sdk import AsyncNoukai, Noukai
from noukai_sdk._core.clock import Clock, use_clock

BASE = "https://api.noukai.dev/api/v1"
KEY = "nk_test_0123456789abcdef"
Kind = Literal["sync", "async"]


def make_client(kind: Kind, **kwargs: Any) -> Noukai | AsyncNoukai:
    kwargs.setdefault("api_key", KEY)
    api_key = kwargs.pop("api_key")
    if kind == "sync":
        return Noukai(api_key, **kwargs)
    return AsyncNoukai(api_key, **kwargs)


def resolve(value: Any) -> Any:
    """The value itself, or the result of running it when it is a coroutine (async client)."""
    if inspect.isawaitable(value):
        return asyncio.run(_await(value))
    return value


async def _await(value: Any) -> Any:
    return await value


def resume(kind: Kind, paused: Any, results: Any) -> Any:
    """``resume_sync`` on the sync client, ``await resume`` on the async client."""
    if kind == "sync":
        return paused.resume_sync(results)
    return resolve(paused.resume(results))


def completed(**overrides: Any) -> dict[str, Any]:
    body = {
        "status": "completed",
        "result": {"answer": 42},
        "flowId": "f-xyz",
        "blockCount": 3,
        "executionId": "exec-1",
    }
    body.update(overrides)
    return body


def paused(**overrides: Any) -> dict[str, Any]:
    body = {
        "status": "tool_calls_required",
        "executionId": "exec-1",
        "pausedAtStep": "step-1",
        "iterationsUsed": 1,
        "toolCallMessages": [
            {"role": "user", "content": "search for X"},
            {
                "role": "assistant",
                "tool_calls": [{"id": "tc-1", "function": {"name": "search", "arguments": "{}"}}],
            },
        ],
        "toolCalls": [{"id": "tc-1", "function": {"name": "search", "arguments": "{}"}}],
        "accumulatedOutputs": {"step-0": {"context": "..."}},
        "flowId": "f",
        "blockCount": 2,
    }
    body.update(overrides)
    return body


class SkippingClock(Clock):
    """Real monotonic time, plus the sleeps it skipped instead of waiting them out."""

    def __init__(self) -> None:
        self.skipped = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.skipped += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)  # still a scheduling point, as a real sleep would be


ClockT = TypeVar("ClockT", bound=Clock)


@contextmanager
def clock_in_use(clock: ClockT) -> Iterator[ClockT]:
    """``clock`` is the SDK's clock inside the block; the previous one comes back after it."""
    previous = use_clock(clock)
    try:
        yield clock
    finally:
        use_clock(previous)
