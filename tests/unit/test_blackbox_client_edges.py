"""Black-box checks of edge cases: session-id header safety, 0.2.0 call forms, streams' errors and
log events, job polling windows.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from client_helpers import SkippingClock

from noukai_sdk import (
    AsyncNoukai,
    AuthenticationError,
    FlowExecutionError,
    Noukai,
    RateLimitError,
    RunStarted,
)

KEY = "nk_edges_secret_42"
KINDS = ["sync", "async"]
COMPLETED = {"status": "completed", "result": 1, "flowId": "f", "blockCount": 1, "executionId": "e"}
ACCEPTED = {"executionId": "job-1", "flowId": "f", "status": "started", "blockCount": 1}
SSE = (
    b'event: run_started\ndata: {"runId": "r", "executionId": "e"}\n\n'
    b'event: flow_completed\ndata: {"runId": "r", "result": 1}\n\n'
)


def run(value: Any) -> Any:
    if inspect.isawaitable(value):

        async def wait() -> Any:
            return await value

        return asyncio.run(wait())
    return value


class Wire:
    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def answer(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]

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


def collect(kind: str, stream: Any) -> list[Any]:
    if kind == "sync":
        with stream:
            return list(stream)

    async def drain() -> list[Any]:
        async with stream:
            return [event async for event in stream]

    return asyncio.run(drain())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", ["é", "a\nb", "a\r\nX-Evil: 1", "nul\x00"])
def test_a_session_id_that_cannot_be_a_header_is_refused_before_any_request(
    kind: str, bad: str
) -> None:
    wire = Wire(httpx.Response(200, json=COMPLETED))
    flow = wire.client(kind).flow("o/p/s")
    with pytest.raises(ValueError, match="X-Session-Id"):
        run(flow.execute("hi", session_id=bad))
    with pytest.raises(ValueError, match="X-Session-Id"):
        run(flow.execute_async("hi", session_id=bad))
    with pytest.raises(ValueError, match="X-Session-Id"):
        collect(kind, flow.events("hi", session_id=bad))
    assert not wire.requests


def test_a_client_default_session_id_is_checked_at_construction() -> None:
    with pytest.raises(ValueError, match="X-Session-Id"):
        Noukai(KEY, session_id="line\nbreak")
    with pytest.raises(TypeError):
        AsyncNoukai(KEY, session_id=5)  # type: ignore[arg-type]
    assert Noukai(KEY, session_id="").session_id == ""
    assert Noukai(KEY, session_id="a b\tc").session_id == "a b\tc"


@pytest.mark.parametrize("kind", KINDS)
def test_positional_timeouts_of_the_0_2_0_signatures(kind: str) -> None:
    step = {"stepId": "s", "attempt": 2, "status": "completed"}
    trace: dict[str, Any] = {
        "flowRun": {"id": "r", "flowId": "f", "status": "completed"},
        "steps": [],
    }
    wire = Wire(
        httpx.Response(200, json=trace),
        httpx.Response(200, json=step),
        httpx.Response(202, json=ACCEPTED),
        httpx.Response(200, json={"executionId": "job-1", "status": "completed"}),
    )
    flow = wire.client(kind).flow("o/p/s")
    handle = flow.run("e")
    assert run(handle.trace(5.0)).flow_run.id == "r"
    assert run(handle.step_trace("s", 2, 1, 4.0)).attempt == 2
    job = run(flow.execute_async("hi"))
    assert run(job.poll(3.0)).status == "completed"
    assert run(job.wait(2.0, 0.01)).status == "completed"
    timeouts = [r.extensions["timeout"]["read"] for r in wire.requests[:4]]
    assert timeouts[:2] == [5.0, 4.0]
    assert timeouts[3] == 3.0
    assert str(wire.requests[1].url).endswith("/runs/e/steps/s/trace?attempt=2&loop_index=1")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", [0, -1, "5", True])
def test_per_call_timeouts_are_validated(kind: str, bad: Any) -> None:
    wire = Wire(httpx.Response(200, json=COMPLETED))
    flow = wire.client(kind).flow("o/p/s")
    with pytest.raises((ValueError, TypeError)):
        run(flow.execute("hi", timeout=bad))
    with pytest.raises((ValueError, TypeError)):
        run(flow.run("e").trace(timeout=bad))
    assert not wire.requests


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


@pytest.mark.parametrize("kind", KINDS)
def test_stream_log_events_have_no_bodies(kind: str) -> None:
    events: list[dict[str, Any]] = []
    wire = Wire(
        httpx.Response(
            200, content=SSE, headers={"Content-Type": "text/event-stream", "X-Request-ID": "sr"}
        )
    )
    flow = wire.client(kind, log_handler=events.append, log_payloads=True).flow("o/p/s")
    received = collect(kind, flow.run("e").live_trace())
    assert isinstance(received[0], RunStarted)
    path = "/seq/o/p/s/runs/e/trace/stream"
    assert events == [
        {"phase": "request", "method": "GET", "path": path, "attempt": 0, "streaming": True},
        {
            "phase": "response",
            "method": "GET",
            "path": path,
            "status_code": 200,
            "request_id": "sr",
            "attempt": 0,
            "streaming": True,
        },
    ]
    live = wire.requests[0]
    assert live.headers["accept"] == "application/json" and "x-session-id" not in live.headers


@pytest.mark.parametrize("kind", KINDS)
def test_log_path_has_no_query_string(kind: str) -> None:
    events: list[dict[str, Any]] = []
    step = {"stepId": "s", "attempt": 1, "status": "completed"}
    wire = Wire(httpx.Response(200, json=step))
    flow = wire.client(kind, log_handler=events.append).flow("o/p/s")
    run(flow.run("e").step_trace("s", attempt=1, loop_index=2))
    assert {e["path"] for e in events} == {"/seq/o/p/s/runs/e/steps/s/trace"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_404_right_after_submission_reads_as_pending(kind: str) -> None:
    wire = Wire(
        httpx.Response(202, json=ACCEPTED),
        httpx.Response(404, json={"detail": {"code": "JOB_NOT_FOUND", "message": "not yet"}}),
    )
    job = run(wire.client(kind).flow("o/p/s").execute_async("hi", session_id="sx"))
    status = run(job.poll())
    assert (status.execution_id, status.status) == ("job-1", "pending")
    assert (job.status, job.session_id) == ("started", "sx")


@pytest.mark.parametrize("kind", KINDS)
def test_a_job_wait_that_only_sees_404s_still_honours_its_deadline(kind: str) -> None:
    from noukai_sdk import APITimeoutError

    wire = Wire(
        httpx.Response(202, json=ACCEPTED),
        httpx.Response(404, json={"detail": "nope"}),
    )
    job = run(wire.client(kind).flow("o/p/s").execute_async("hi"))
    with pytest.raises(APITimeoutError):
        run(job.wait(timeout=0.05, poll_interval=0.01))


@pytest.mark.parametrize("kind", KINDS)
def test_other_job_poll_errors_propagate(kind: str) -> None:
    wire = Wire(httpx.Response(202, json=ACCEPTED), httpx.Response(403, json={"detail": "no"}))
    job = run(wire.client(kind).flow("o/p/s").execute_async("hi"))
    from noukai_sdk import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        run(job.wait(timeout=5, poll_interval=0.01))


@pytest.mark.parametrize("kind", KINDS)
def test_get_backoff_doubles_from_half_a_second_capped_at_eight_with_jitter(
    kind: str, fake_clock: SkippingClock
) -> None:
    slept = fake_clock.sleeps
    events: list[dict[str, Any]] = []
    wire = Wire(httpx.Response(503, json={"detail": "busy"}))
    flow = wire.client(kind, max_retries=6, log_handler=events.append).flow("o/p/s")
    with pytest.raises(FlowExecutionError) as info:
        run(flow.run("e").trace())
    assert info.value.status_code == 503
    assert len(wire.requests) == 7
    nominal = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    delays = [e["delay"] for e in events if e["phase"] == "retry"]
    assert len(delays) == 6 and slept == delays
    for delay, expected in zip(delays, nominal, strict=True):
        assert expected * 0.75 <= delay <= expected * 1.25
    retry = next(e for e in events if e["phase"] == "retry")
    assert (retry["method"], retry["path"], retry["attempt"]) == (
        "GET",
        "/seq/o/p/s/runs/e/trace",
        0,
    )


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


@pytest.mark.parametrize("kind", KINDS)
def test_resumes_reuse_the_original_calls_timeout_and_version(kind: str) -> None:
    wire = Wire(
        httpx.Response(200, json=PAUSED),
        httpx.Response(200, json=PAUSED),
        httpx.Response(200, json=COMPLETED),
    )
    flow = wire.client(kind).flow("o/p/s")

    def handler(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"tool_call_id": call["id"], "output": "ok"} for call in calls]

    result = run(flow.execute("hi", tool_handler=handler, timeout=7.0, version=4))
    assert result.output == 1
    assert [r.extensions["timeout"]["read"] for r in wire.requests] == [7.0, 7.0, 7.0]
    assert {r.url.path for r in wire.requests} == {"/api/v1/seq/o/p/s/v4/execute"}
    assert "message" not in json.loads(wire.requests[1].content)


def _utf16(text: str) -> bytes:
    return text.encode("utf-16")


def _with_bom(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.encode()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("encode", [_utf16, _with_bom])
def test_json_bodies_in_other_unicode_encodings_are_read_everywhere(
    kind: str, encode: Callable[[str], bytes]
) -> None:
    status = json.dumps({"executionId": "job-1", "status": "completed", "result": "ü"})
    wire = Wire(
        httpx.Response(202, content=encode(json.dumps(ACCEPTED))),
        httpx.Response(200, content=encode(status)),
    )
    job = run(wire.client(kind).flow("o/p/s").execute_async("hi"))
    assert run(job.poll()).result == "ü"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("timeout", "poll_interval"),
    [(float("nan"), 1.0), (0, 1.0), (-1, 1.0), (1.0, float("nan")), (1.0, -0.5), ("5", 1.0)],
)
def test_job_wait_arguments_are_checked_before_polling(
    kind: str, timeout: Any, poll_interval: Any
) -> None:
    wire = Wire(
        httpx.Response(202, json=ACCEPTED),
        httpx.Response(200, json={"executionId": "job-1", "status": "running"}),
    )
    job = run(wire.client(kind).flow("o/p/s").execute_async("hi"))
    with pytest.raises(ValueError):
        run(job.wait(timeout=timeout, poll_interval=poll_interval))
    assert len(wire.requests) == 1


def test_a_very_large_max_retries_keeps_the_capped_backoff(fake_clock: SkippingClock) -> None:
    slept = fake_clock.sleeps
    wire = Wire(httpx.Response(503, json={"detail": "busy"}))
    with pytest.raises(FlowExecutionError):
        wire.client("sync", max_retries=1100).flow("o/p/s").run("e").trace()
    assert len(wire.requests) == 1101
    assert max(slept) <= 8.0 * 1.25


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("argument", ["attachments", "tools"])
def test_a_single_dict_where_a_list_belongs_is_refused(kind: str, argument: str) -> None:
    wire = Wire(httpx.Response(200, json=COMPLETED))
    flow = wire.client(kind).flow("o/p/s")
    with pytest.raises(TypeError, match=argument):
        run(flow.execute("hi", **{argument: {"url": "https://x/a.png"}}))
    assert not wire.requests
