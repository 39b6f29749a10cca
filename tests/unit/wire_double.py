"""An injected httpx client that records requests and answers from a queue, for both clients.

The client tests that check bytes on the wire build their clients through :class:`Wire`, so the
SDK's own transport runs (headers, body encoding, redirects) with only the socket replaced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from client_helpers import KEY, completed

from noukai_sdk import AsyncNoukai, Noukai

KINDS = ["sync", "async"]
Handler = Callable[[httpx.Request], httpx.Response]


class Wire:
    """Answers each request with the next queued response (the last one repeats)."""

    def __init__(self, *responses: httpx.Response | Handler) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def answer(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        return answer(request) if callable(answer) else answer

    def client(self, kind: str, **kwargs: Any) -> Any:
        if kind == "sync":
            return Noukai(
                KEY, http_client=httpx.Client(transport=httpx.MockTransport(self.answer)), **kwargs
            )

        async def handler(request: httpx.Request) -> httpx.Response:
            return self.answer(request)

        return AsyncNoukai(
            KEY, http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), **kwargs
        )

    def bodies(self) -> list[bytes]:
        return [r.content for r in self.requests]


def ok(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def short_completed(**overrides: Any) -> dict[str, Any]:
    """A completed ``/execute`` body with one-letter ids (``executionId`` ``"e"``)."""
    return completed(**{"flowId": "f", "executionId": "e", **overrides})


def paused_body(**overrides: Any) -> dict[str, Any]:
    """A paused ``/execute`` body asking for one tool call ``t``."""
    body = {
        "status": "tool_calls_required",
        "executionId": "e",
        "pausedAtStep": "s1",
        "iterationsUsed": 2,
        "toolCallMessages": [{"role": "assistant", "tool_calls": [{"id": "t"}]}],
        "toolCalls": [{"id": "t", "function": {"name": "x", "arguments": "{}"}}],
        "accumulatedOutputs": {"s0": 1},
        "flowId": "f",
        "blockCount": 2,
    }
    body.update(overrides)
    return body


COMPLETED = {"status": "completed", "result": 1, "flowId": "f", "blockCount": 1, "executionId": "e"}
JOB_STARTED = {"executionId": "job-1", "flowId": "f", "status": "started", "blockCount": 1}
PAUSED = {
    "status": "tool_calls_required",
    "executionId": "e",
    "pausedAtStep": "s1",
    "iterationsUsed": 1,
    "toolCallMessages": [],
    "toolCalls": [{"id": "t", "function": {"name": "f", "arguments": "{}"}}],
    "flowId": "f",
    "blockCount": 2,
}
SSE = (
    b'event: run_started\ndata: {"runId": "r", "executionId": "e"}\n\n'
    b'event: flow_completed\ndata: {"runId": "r", "result": 1}\n\n'
)


def collect(kind: str, stream: Any) -> list[Any]:
    """Every event of a sync or async stream, closing it after."""
    if kind == "sync":
        with stream:
            return list(stream)

    async def drain() -> list[Any]:
        async with stream:
            return [event async for event in stream]

    return asyncio.run(drain())
