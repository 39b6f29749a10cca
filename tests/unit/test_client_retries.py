"""Retry policy: what is retried for GET and POST, how often, how long; 429 and Retry-After."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, Kind, SkippingClock, completed, make_client, resolve

from noukai_sdk import APIConnectionError, APITimeoutError, FlowExecutionError, RateLimitError
from noukai_sdk._core.retry import RetryPolicy, parse_retry_after

EXECUTE = "/seq/o/p/s/execute"
TRACE = "/seq/o/p/s/runs/e1/trace"
TRACE_BODY = {"flowRun": {"id": "e1", "flowId": "f", "status": "completed"}, "steps": []}


@pytest.fixture
def sleeps(fake_clock: SkippingClock) -> list[float]:
    return fake_clock.sleeps


def trace(kind: Kind, outcomes: list[Any], **client_kwargs: Any) -> tuple[Any, respx.Route]:
    client = make_client(kind, **client_kwargs)
    with respx.mock(base_url=BASE) as mock:
        route = mock.get(TRACE).mock(side_effect=outcomes)
        try:
            return resolve(client.flow("o/p/s").run("e1").trace()), route
        except Exception as exc:
            return exc, route


def execute(kind: Kind, outcomes: list[Any], **client_kwargs: Any) -> tuple[Any, respx.Route]:
    client = make_client(kind, **client_kwargs)
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(EXECUTE).mock(side_effect=outcomes)
        try:
            return resolve(client.flow("o/p/s").execute("hi")), route
        except Exception as exc:
            return exc, route


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_get_is_retried_on_transient_statuses(kind: Kind, status: int, sleeps: list[float]) -> None:
    result, route = trace(kind, [httpx.Response(status), httpx.Response(200, json=TRACE_BODY)])
    assert result.flow_run.id == "e1"
    assert route.call_count == 2
    assert len(sleeps) == 1 and 0.375 <= sleeps[0] <= 0.625


@pytest.mark.parametrize("status", [400, 404, 409, 501, 505])
def test_get_is_not_retried_on_other_statuses(status: int, sleeps: list[float]) -> None:
    result, route = trace("sync", [httpx.Response(status), httpx.Response(200, json=TRACE_BODY)])
    assert isinstance(result, Exception)
    assert route.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_get_retries_connection_errors_and_read_timeouts(kind: Kind, sleeps: list[float]) -> None:
    result, route = trace(
        kind,
        [
            httpx.ConnectError("refused"),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json=TRACE_BODY),
        ],
        max_retries=2,
    )
    assert result.flow_run.id == "e1"
    assert route.call_count == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_exhausted_retries_raise_the_last_mapped_error(kind: Kind, sleeps: list[float]) -> None:
    result, route = trace(kind, [httpx.Response(503)] * 4, max_retries=3)
    assert isinstance(result, FlowExecutionError)
    assert result.status_code == 503
    assert route.call_count == 4
    assert len(sleeps) == 3
    for sleep, nominal in zip(sleeps, [0.5, 1.0, 2.0], strict=True):
        assert nominal * 0.75 <= sleep <= nominal * 1.25


def test_max_retries_zero_disables_retries(sleeps: list[float]) -> None:
    result, route = trace(
        "sync", [httpx.Response(503), httpx.Response(200, json=TRACE_BODY)], max_retries=0
    )
    assert isinstance(result, FlowExecutionError)
    assert route.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_post_is_never_retried_on_statuses(kind: Kind, status: int, sleeps: list[float]) -> None:
    result, route = execute(kind, [httpx.Response(status), httpx.Response(200, json=completed())])
    assert isinstance(result, FlowExecutionError)
    assert route.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_post_is_retried_when_it_never_reached_the_server(kind: Kind, sleeps: list[float]) -> None:
    result, route = execute(
        kind, [httpx.ConnectError("refused"), httpx.Response(200, json=completed())]
    )
    assert result.status == "completed"
    assert route.call_count == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), httpx.ReadError("reset")],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_post_is_not_retried_once_it_may_have_been_received(
    kind: Kind, error: Exception, sleeps: list[float]
) -> None:
    result, route = execute(kind, [error, httpx.Response(200, json=completed())])
    assert isinstance(result, APIConnectionError)
    assert isinstance(result, APITimeoutError) == isinstance(error, httpx.TimeoutException)
    assert route.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "5"}, 5.0),
        ({"Retry-After": "2.5"}, 2.5),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "-1"}, None),
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_429_is_raised_at_once_with_retry_after(
    kind: Kind, headers: dict[str, str], expected: float | None, sleeps: list[float]
) -> None:
    result, route = trace(
        kind, [httpx.Response(429, json={"detail": "slow down"}, headers=headers)] * 2
    )
    assert isinstance(result, RateLimitError)
    assert result.retry_after == expected
    assert str(result) == "slow down"
    assert route.call_count == 1
    assert sleeps == []


def test_retry_after_http_date(sleeps: list[float]) -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    result, _ = trace(
        "sync", [httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})]
    )
    assert isinstance(result, RateLimitError)
    assert result.retry_after is not None and 25 <= result.retry_after <= 31


def test_parse_retry_after_prefers_milliseconds_and_clamps_past_dates() -> None:
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0


def test_backoff_doubles_from_half_a_second_and_caps_at_eight() -> None:
    no_jitter = RetryPolicy(max_retries=8, random=lambda: 0.5)
    assert [no_jitter.delay(k) for k in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert RetryPolicy(random=lambda: 0.0).delay(0) == 0.375
    assert RetryPolicy(random=lambda: 1.0).delay(4) == 10.0


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_retried_server_error_waits_as_long_as_its_retry_after_asks(
    kind: Kind, sleeps: list[float]
) -> None:
    outcomes = [
        httpx.Response(503, headers={"Retry-After": "3"}),
        httpx.Response(200, json=TRACE_BODY),
    ]
    result, route = trace(kind, outcomes)
    assert route.call_count == 2 and result.flow_run.id == "e1"
    assert sleeps == [3.0]


def test_a_retry_after_beyond_the_bound_falls_back_to_the_backoff(sleeps: list[float]) -> None:
    outcomes = [
        httpx.Response(502, headers={"Retry-After": "3600"}),
        httpx.Response(200, json=TRACE_BODY),
    ]
    _, route = trace("sync", outcomes)
    assert route.call_count == 2
    assert len(sleeps) == 1 and 0.375 <= sleeps[0] <= 0.625


STEP = "/seq/o/p/s/step"
LIVE = "/seq/o/p/s/runs/e1/trace/stream"
FINISHED_STREAM = (
    b'event: run_started\ndata: {"runId": "r", "executionId": "e1"}\n\n'
    b'event: step_completed\ndata: {"stepId": "s1", "output": 1}\n\n'
    b'event: flow_completed\ndata: {"status": "completed", "executionId": "e1", "result": 1}\n\n'
)


def _event_stream() -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=FINISHED_STREAM
    )


def _stream_types(kind: Kind, opener: str) -> list[str]:
    client = make_client(kind)
    flow = client.flow("o/p/s")
    stream: Any
    if opener == "live_trace":
        stream = flow.run("e1").live_trace()
    elif opener == "steps":
        stream = flow.steps("hi")
    else:
        stream = flow.events("hi")
    if kind == "sync":
        return [event.type for event in stream]

    async def collect() -> list[str]:
        return [event.type async for event in stream]

    return asyncio.run(collect())


@pytest.mark.parametrize("opener", ["steps", "events", "live_trace"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_refused_connect_is_retried_when_opening_a_stream(
    kind: Kind, opener: str, sleeps: list[float]
) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = (mock.get(LIVE) if opener == "live_trace" else mock.post(STEP)).mock(
            side_effect=[httpx.ConnectError("connection refused"), _event_stream()]
        )
        types = _stream_types(kind, opener)
    assert route.call_count == 2 and len(sleeps) == 1
    everything = ["run_started", "step_completed", "flow_completed"]
    assert types == (["step_completed"] if opener == "steps" else everything)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_step_stream_that_may_have_reached_the_server_is_not_reopened(
    kind: Kind, sleeps: list[float]
) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(STEP).mock(side_effect=httpx.ReadTimeout("no answer"))
        with pytest.raises(APITimeoutError):
            _stream_types(kind, "events")
    assert route.call_count == 1 and sleeps == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_live_trace_is_reopened_after_a_transient_status(kind: Kind, sleeps: list[float]) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.get(LIVE).mock(side_effect=[httpx.Response(503), _event_stream()])
        types = _stream_types(kind, "live_trace")
    assert route.call_count == 2 and types == ["run_started", "step_completed", "flow_completed"]
