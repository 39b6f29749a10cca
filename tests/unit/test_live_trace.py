"""The live trace stream yields every event until the run's terminal event, with no cursor logic."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from noukai_sdk import (
    APIResponseValidationError,
    AsyncNoukai,
    FlowCompleted,
    FlowNotFoundError,
    Noukai,
    RunStarted,
    StepCompleted,
    StepPaused,
    StepStarted,
    StreamEvent,
    StreamInterruptedError,
)
from noukai_sdk._streams import EventStream


def sse(cls: type[StreamEvent], **fields: Any) -> bytes:
    payload = cls.model_validate(fields).to_wire()
    return f"event: {cls.type}\ndata: {json.dumps(payload)}\n\n".encode()


TRACE = b"".join(
    [
        sse(RunStarted, run_id="r", execution_id="e"),
        sse(StepStarted, step_id="s0"),
        b": keep-alive\n\n",
        sse(StepCompleted, step_id="s0", output=1),
        sse(StepPaused, step_id="s0"),
        sse(StepStarted, step_id="s1"),
        sse(StepCompleted, step_id="s1", output=2),
        sse(FlowCompleted, execution_id="e", result=2),
    ]
)


class Recorder:
    def __init__(self, body: bytes, status: int = 200) -> None:
        self.body, self.status = body, status
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, content=self.body)


def live_trace(server: Recorder, *, timeout: float | None = None) -> EventStream[StreamEvent]:
    http = httpx.Client(transport=httpx.MockTransport(server.handle))
    run = Noukai(api_key="nk_test", http_client=http).flow("o/p/s").run("e")
    return run.live_trace(timeout=timeout)


def test_every_event_is_yielded_in_order_without_stamping() -> None:
    server = Recorder(TRACE)
    with live_trace(server, timeout=12.0) as stream:
        events = list(stream)
    assert [e.type for e in events] == [
        "run_started",
        "step_started",
        "step_completed",
        "step_paused",
        "step_started",
        "step_completed",
        "flow_completed",
    ]
    assert all(getattr(e, "step_index", None) is None for e in events)
    (request,) = server.requests
    assert request.method == "GET" and request.url.path.endswith("/runs/e/trace/stream")
    assert "x-session-id" not in request.headers and request.content == b""
    assert request.extensions["timeout"]["read"] == 12.0


def test_a_trace_that_ends_before_the_run_finishes_raises_after_its_events() -> None:
    seen: list[str] = []
    with (
        live_trace(Recorder(sse(RunStarted, run_id="r"))) as stream,
        pytest.raises(StreamInterruptedError, match="before the run finished"),
    ):
        seen.extend(event.type for event in stream)
    assert seen == ["run_started"]


def test_control_events_that_do_not_validate_raise_here_too() -> None:
    with (
        live_trace(Recorder(b'event: step_completed\ndata: {"costUsd": 1}\n\n')) as stream,
        pytest.raises(APIResponseValidationError),
    ):
        list(stream)


def test_error_status_is_mapped() -> None:
    with (
        live_trace(Recorder(b'{"detail": "no such run"}', status=404)) as stream,
        pytest.raises(FlowNotFoundError, match="no such run"),
    ):
        next(stream)


def test_async_live_trace_yields_the_same_events() -> None:
    server = Recorder(TRACE)

    async def collect() -> list[str]:
        http = httpx.AsyncClient(transport=httpx.MockTransport(server.handle))
        run = AsyncNoukai(api_key="nk_test", http_client=http).flow("o/p/s").run("e")
        async with run.live_trace() as stream:
            return [event.type async for event in stream]

    assert asyncio.run(collect())[-1] == "flow_completed"
