"""Runs: run trace, step trace query forms, live trace, streaming entry points."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, Kind, make_client, resolve
from wire_double import (
    KINDS,
    Wire,
    collect,
    ok,
)

from noukai_sdk import (
    AuthenticationError,
    RateLimitError,
    StepAttempts,
    StepTrace,
    Trace,
)

RUN = "/seq/o/p/s/runs/e1"
STEP = {
    "stepId": "step-1",
    "attempt": 2,
    "status": "completed",
    "costUsd": "0.0012",
    "tokens": {"prompt": 3},
}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_trace(kind: Kind) -> None:
    body = {
        "flowRun": {"id": "e1", "flowId": "f", "status": "completed", "triggerType": "ad_hoc"},
        "steps": [STEP],
    }
    with respx.mock(base_url=BASE) as mock:
        route = mock.get(f"{RUN}/trace").respond(200, json=body)
        run = make_client(kind, session_id="s").flow("o/p/s").run("e1")
        trace = resolve(run.trace(timeout=9.0))
    assert run.execution_id == "e1"
    assert isinstance(trace, Trace)
    assert trace.flow_run.id == "e1"
    assert trace.steps[0].tokens is not None and trace.steps[0].tokens.total == 0
    request = route.calls.last.request
    assert request.extensions["timeout"]["read"] == 9.0
    assert "x-session-id" not in request.headers


@pytest.mark.parametrize(
    ("kwargs", "query", "model"),
    [
        ({}, b"", StepTrace),
        ({"attempt": "latest"}, b"", StepTrace),
        ({"attempt": 3}, b"attempt=3", StepTrace),
        ({"attempt": "all"}, b"attempt=all", StepAttempts),
        ({"attempt": 2, "loop_index": 0}, b"attempt=2&loop_index=0", StepTrace),
        ({"loop_index": 4}, b"loop_index=4", StepTrace),
    ],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_step_trace_query(kind: Kind, kwargs: dict[str, Any], query: bytes, model: type) -> None:
    body = {"stepId": "step-1", "attempts": [STEP]} if model is StepAttempts else STEP
    with respx.mock(base_url=BASE) as mock:
        route = mock.get(f"{RUN}/steps/step-1/trace").respond(200, json=body)
        result = resolve(make_client(kind).flow("o/p/s").run("e1").step_trace("step-1", **kwargs))
    assert isinstance(result, model)
    assert route.calls.last.request.url.query == query


@pytest.mark.parametrize("attempt", [0, -1, "first", True])
def test_invalid_attempt(attempt: Any) -> None:
    with pytest.raises(ValueError, match="attempt"):
        make_client("sync").flow("o/p/s").run("e1").step_trace("step-1", attempt=attempt)


def test_step_trace_with_unknown_status_is_a_validation_error() -> None:
    from noukai_sdk import APIResponseValidationError

    with respx.mock(base_url=BASE) as mock:
        mock.get(f"{RUN}/steps/step-1/trace").respond(200, json={**STEP, "status": "exploded"})
        with pytest.raises(APIResponseValidationError, match="status"):
            make_client("sync").flow("o/p/s").run("e1").step_trace("step-1")


SSE = (
    b'event: run_started\ndata: {"eventType": "run_started", "runId": "r", "executionId": "e1"}\n\n'
    b'event: flow_completed\ndata: {"eventType": "flow_completed", "runId": "r"}\n\n'
)


def test_live_trace_streams_events_sync() -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.get(f"{RUN}/trace/stream").respond(
            200, content=SSE, headers={"content-type": "text/event-stream"}
        )
        with make_client("sync").flow("o/p/s").run("e1").live_trace() as stream:
            names = [type(event).__name__ for event in stream]
    assert names == ["RunStarted", "FlowCompleted"]
    assert route.calls.last.request.headers["accept"] == "application/json"


def test_live_trace_streams_events_async() -> None:
    async def collect() -> list[str]:
        client = make_client("async")
        async with client.flow("o/p/s").run("e1").live_trace() as stream:  # type: ignore[union-attr]
            return [type(event).__name__ async for event in stream]

    with respx.mock(base_url=BASE) as mock:
        mock.get(f"{RUN}/trace/stream").respond(200, content=SSE)
        assert resolve(collect()) == ["RunStarted", "FlowCompleted"]


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("method", ["steps", "events"])
@pytest.mark.parametrize("version", ["draft", 0, True, -2])
def test_streams_check_version_when_called(kind: Kind, method: str, version: Any) -> None:
    flow = make_client(kind).flow("o/p/s")
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.route().respond(200)
        with pytest.raises(ValueError):
            getattr(flow, method)("hi", version=version)
    assert not route.called


def test_sync_streams_reject_async_handlers_when_called() -> None:
    async def handler(calls: Any) -> Any:
        return []

    flow = make_client("sync").flow("o/p/s")
    with pytest.raises(TypeError, match="Sync client cannot use async tool_handler"):
        flow.events("hi", tool_handler=handler)  # type: ignore[arg-type]


def test_stream_http_errors_are_mapped() -> None:
    from noukai_sdk import FlowNotFoundError

    with respx.mock(base_url=BASE) as mock:
        mock.get(f"{RUN}/trace/stream").respond(
            404,
            json={"detail": {"code": "RUN_NOT_FOUND", "message": "no run"}},
            headers={"X-Request-ID": "q"},
        )
        with pytest.raises(FlowNotFoundError) as info:
            list(make_client("sync").flow("o/p/s").run("e1").live_trace())
    assert (info.value.code, info.value.request_id, str(info.value)) == (
        "RUN_NOT_FOUND",
        "q",
        "no run",
    )


def test_stream_connection_errors_are_mapped() -> None:
    from noukai_sdk import APIConnectionError, APITimeoutError

    with respx.mock(base_url=BASE) as mock:
        mock.get(f"{RUN}/trace/stream").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(APIConnectionError):
            list(make_client("sync").flow("o/p/s").run("e1").live_trace())
        mock.get(f"{RUN}/trace/stream").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(APITimeoutError):
            list(make_client("sync").flow("o/p/s").run("e1").live_trace())


class _BreakingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that delivers one event, then fails like a dropped connection."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __iter__(self) -> Any:
        yield SSE.split(b"\n\n")[0] + b"\n\n"
        raise self.error

    async def __aiter__(self) -> Any:
        yield SSE.split(b"\n\n")[0] + b"\n\n"
        raise self.error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx.ReadError("connection reset"), "APIConnectionError"),
        (httpx.ReadTimeout("idle"), "APITimeoutError"),
    ],
)
def test_errors_while_reading_a_stream_are_mapped(error: Exception, expected: str) -> None:
    import noukai_sdk

    seen: list[str] = []

    async def collect_async() -> None:
        async with make_client("async").flow("o/p/s").run("e1").live_trace() as stream:  # type: ignore[union-attr]
            async for event in stream:
                seen.append(type(event).__name__)

    with respx.mock(base_url=BASE) as mock:
        mock.get(f"{RUN}/trace/stream").mock(
            return_value=httpx.Response(200, stream=_BreakingStream(error))
        )
        with pytest.raises(getattr(noukai_sdk, expected)):
            for event in make_client("sync").flow("o/p/s").run("e1").live_trace():
                seen.append(type(event).__name__)
        with pytest.raises(getattr(noukai_sdk, expected)):
            resolve(collect_async())
    assert seen == ["RunStarted", "RunStarted"]


@pytest.mark.parametrize("kind", KINDS)
def test_step_trace_queries_and_models(kind: str) -> None:
    step = {"stepId": "s", "attempt": 1, "status": "completed", "costUsd": "0.1"}
    wire = Wire(ok(step), ok({"stepId": "s", "attempts": [step]}), ok(step), ok(step))
    run_handle = wire.client(kind).flow("acme/support/triage").run("e")
    assert run_handle.execution_id == "e"
    latest = resolve(run_handle.step_trace("s"))
    all_attempts = resolve(run_handle.step_trace("s", attempt="all"))
    resolve(run_handle.step_trace("s", attempt=2, loop_index=3))
    resolve(run_handle.step_trace("s", loop_index=0))
    assert latest.step_id == "s" and latest.attempt == 1
    assert len(all_attempts.attempts) == 1
    urls = [str(r.url) for r in wire.requests]
    prefix = f"{BASE}/seq/acme/support/triage/runs/e/steps/s/trace"
    assert urls == [
        prefix,
        prefix + "?attempt=all",
        prefix + "?attempt=2&loop_index=3",
        prefix + "?loop_index=0",
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_stream_401_and_429_carry_their_header_attributes(kind: str) -> None:
    wire = Wire(
        httpx.Response(
            401, json={"detail": "no"}, headers={"WWW-Authenticate": "Bearer", "X-Request-ID": "q1"}
        ),
        httpx.Response(429, json={"detail": "slow"}, headers={"Retry-After": "7"}),
    )
    flow = wire.client(kind).flow("o/p/s")
    with pytest.raises(AuthenticationError) as auth:
        collect(kind, flow.events("hi"))
    assert (auth.value.status_code, auth.value.www_authenticate) == (401, "Bearer")
    assert auth.value.request_id == "q1" and str(auth.value) == "no"
    with pytest.raises(RateLimitError) as limited:
        collect(kind, flow.run("e").live_trace())
    assert limited.value.retry_after == 7.0
    assert len(wire.requests) == 2  # streams are never retried
