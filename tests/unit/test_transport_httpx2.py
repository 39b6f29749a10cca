"""An injected httpx2 client: every feature and every error kind, sync and async.

httpx2 continues httpx with the same API. A ``Noukai(http_client=httpx2.Client(...))`` (or an
``httpx2.Timeout`` as ``timeout=``) runs on it with the same behaviour and the same errors as the
default httpx client. The fake API here is an ``httpx2.MockTransport``; nothing reaches the network.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from client_helpers import KEY, Kind, completed, paused, resolve, resume

import noukai_sdk
from noukai_sdk import (
    APIConnectionError,
    APITimeoutError,
    AsyncNoukai,
    AuthenticationError,
    ExecuteResult,
    FlowCompleted,
    FlowExecutionError,
    FlowNotFoundError,
    InsufficientCreditsError,
    Noukai,
    PausedResult,
    PermissionDeniedError,
    RateLimitError,
    RunStarted,
    StepCompleted,
    StepStarted,
    StreamEvent,
    StreamInterruptedError,
)

if sys.version_info < (3, 11):
    pytest.skip("httpx2 supports Python 3.11 and later", allow_module_level=True)

import httpx2  # the test extra installs it on 3.11+: missing is a failure, not a skip

FLOW = "acme/support/triage"
FLOW_PATH = "/api/v1/seq/acme/support/triage"


def sse(cls: type[StreamEvent], **fields: Any) -> bytes:
    payload = cls.model_validate(fields).to_wire()
    return f"event: {cls.type}\ndata: {json.dumps(payload)}\n\n".encode()


RUN = [
    sse(RunStarted, run_id="r", execution_id="exec-1"),
    sse(StepStarted, step_id="s0", name="Summarize"),
    sse(StepCompleted, step_id="s0", name="Summarize", output={"summary": "ok"}),
    sse(FlowCompleted, execution_id="exec-1", result="done"),
]
ERROR_STATUSES = {
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: FlowNotFoundError,
    429: RateLimitError,
    500: FlowExecutionError,
    503: FlowExecutionError,
}


class FakeAPI:
    """The Noukai API as an httpx2 mock: answers by path, records every request it sees."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.execute_answers: list[dict[str, Any]] = [completed()]
        self.status = 200
        self.failure: Exception | None = None
        self.cut_after: bytes | None = None

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        if self.failure is not None:
            raise self.failure
        if self.status != 200:
            body = {"error": {"code": "NOPE", "message": f"status {self.status}"}}
            headers = {"retry-after": "7"} if self.status == 429 else {}
            return httpx2.Response(self.status, json=body, headers=headers)
        path = request.url.path
        if path.endswith("/execute"):
            answer = self.execute_answers.pop(0) if len(self.execute_answers) > 1 else None
            return httpx2.Response(200, json=answer or self.execute_answers[0])
        if path.endswith("/step") or path.endswith("/trace/stream"):
            sse_headers = {"content-type": "text/event-stream"}
            if self.cut_after is not None:
                return httpx2.Response(200, headers=sse_headers, stream=CutStream(self.cut_after))
            return httpx2.Response(200, headers=sse_headers, content=b"".join(RUN))
        if path.endswith("/jobs"):
            accepted = {"executionId": "j1", "status": "started", "flowId": "f", "blockCount": 1}
            return httpx2.Response(200, json=accepted)
        if path.endswith("/jobs/j1"):
            return httpx2.Response(
                200, json={"executionId": "j1", "status": "completed", "result": {"answer": 42}}
            )
        return httpx2.Response(404, json={"error": {"code": "NOT_FOUND", "message": path}})

    def client(self, kind: Kind, **options: Any) -> Noukai | AsyncNoukai:
        transport = httpx2.MockTransport(self)
        if kind == "sync":
            return Noukai(KEY, http_client=httpx2.Client(transport=transport), **options)
        return AsyncNoukai(KEY, http_client=httpx2.AsyncClient(transport=transport), **options)


class CutStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A body that sends ``first`` and then loses the connection."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        raise httpx2.ReadError("connection reset by peer")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        raise httpx2.ReadError("connection reset by peer")

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def collect(kind: Kind, stream: Any) -> list[Any]:
    """Every item of a sync or async event stream (the async one inside its own loop)."""
    if kind == "sync":
        with stream:
            return list(stream)

    async def run() -> list[Any]:
        async with stream:
            return [event async for event in stream]

    return asyncio.run(run())


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


KINDS = pytest.mark.parametrize("kind", ["sync", "async"])


@KINDS
def test_execute_runs_on_the_injected_httpx2_client(api: FakeAPI, kind: Kind) -> None:
    result = resolve(api.client(kind).flow(FLOW).execute("hi", session_id="sess-1"))

    assert isinstance(result, ExecuteResult)
    assert result.result == {"answer": 42}
    (request,) = api.requests
    assert type(request).__module__.startswith("httpx2")
    assert request.url.path == FLOW_PATH + "/execute"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-session-id"] == "sess-1"
    assert request.headers["user-agent"].startswith(
        f"noukai-python/{noukai_sdk.__version__} (httpx2/{httpx2.__version__}; "
    )
    assert json.loads(request.content)["message"] == "hi"


@KINDS
def test_tool_calls_resume_automatically_and_by_hand(api: FakeAPI, kind: Kind) -> None:
    api.execute_answers = [paused(), completed(), paused(), completed()]
    flow = api.client(kind).flow(FLOW)

    auto = resolve(
        flow.execute("hi", tool_handler=lambda calls: [{"tool_call_id": "tc-1", "output": "x"}])
    )
    first = resolve(flow.execute("hi"))
    assert isinstance(first, PausedResult)
    manual = resume(kind, first, [{"tool_call_id": "tc-1", "output": "found"}])

    assert isinstance(auto, ExecuteResult) and isinstance(manual, ExecuteResult)
    assert len(api.requests) == 4
    resumed = json.loads(api.requests[3].content)
    assert resumed["executionId"] == "exec-1"
    assert resumed["toolCallMessages"][-1] == {
        "role": "tool",
        "tool_call_id": "tc-1",
        "content": "found",
    }


@KINDS
def test_steps_and_events_stream_through_httpx2(api: FakeAPI, kind: Kind) -> None:
    flow = api.client(kind).flow(FLOW)

    events = collect(kind, flow.events("hi", run_remaining=True))
    steps = collect(kind, flow.steps("hi"))

    assert [type(event) for event in events] == [
        RunStarted,
        StepStarted,
        StepCompleted,
        FlowCompleted,
    ]
    assert [step.output for step in steps] == [{"summary": "ok"}]
    assert all(request.url.path == FLOW_PATH + "/step" for request in api.requests)


@KINDS
def test_live_trace_streams_through_httpx2(api: FakeAPI, kind: Kind) -> None:
    run = api.client(kind).flow(FLOW).run("exec-1")

    events = collect(kind, run.live_trace())

    assert isinstance(events[-1], FlowCompleted)
    assert api.requests[0].url.path == FLOW_PATH + "/runs/exec-1/trace/stream"


@KINDS
def test_jobs_submit_and_wait_through_httpx2(api: FakeAPI, kind: Kind) -> None:
    job = resolve(api.client(kind).flow(FLOW).execute_async("hi"))

    status = resolve(job.wait(timeout=5.0, poll_interval=0.001))

    assert status.status == "completed"
    assert [request.method for request in api.requests] == ["POST", "GET"]


@KINDS
@pytest.mark.parametrize("status", sorted(ERROR_STATUSES))
def test_every_error_status_maps_to_its_noukai_error(api: FakeAPI, kind: Kind, status: int) -> None:
    api.status = status
    client = api.client(kind, max_retries=0)

    with pytest.raises(ERROR_STATUSES[status]) as info:
        resolve(client.flow(FLOW).execute("hi"))

    assert info.value.status_code == status
    if status == 429:
        assert isinstance(info.value, RateLimitError) and info.value.retry_after == 7.0


@KINDS
def test_an_error_status_on_a_stream_maps_the_same_way(api: FakeAPI, kind: Kind) -> None:
    api.status = 403

    with pytest.raises(PermissionDeniedError):
        collect(kind, api.client(kind).flow(FLOW).events("hi"))


@KINDS
def test_a_connect_error_is_an_api_connection_error_that_never_reached_the_server(
    api: FakeAPI, kind: Kind
) -> None:
    api.failure = httpx2.ConnectError("connection refused")

    with pytest.raises(APIConnectionError) as info:
        resolve(api.client(kind, max_retries=1).flow(FLOW).execute("hi"))

    assert not isinstance(info.value, APITimeoutError)
    assert info.value.reached_server is False
    assert "connection refused" in str(info.value)
    assert len(api.requests) == 2  # a POST that never left the client is retried
    assert isinstance(info.value.__cause__, httpx2.ConnectError)


@KINDS
def test_a_read_timeout_is_an_api_timeout_error(api: FakeAPI, kind: Kind) -> None:
    api.failure = httpx2.ReadTimeout("timed out")

    with pytest.raises(APITimeoutError) as info:
        resolve(api.client(kind).flow(FLOW).execute("hi"))

    assert info.value.reached_server is True
    assert len(api.requests) == 1  # a POST that may have reached the server is not retried


@KINDS
def test_a_cut_stream_raises_stream_interrupted_with_the_cursor(api: FakeAPI, kind: Kind) -> None:
    api.cut_after = RUN[0] + RUN[1]
    seen: list[Any] = []
    stream = api.client(kind).flow(FLOW).events("hi")

    async def consume_async() -> None:
        async with stream:
            async for event in stream:
                seen.append(event)

    with pytest.raises(StreamInterruptedError) as info:
        if kind == "sync":
            with stream:
                seen.extend(stream)
        else:
            asyncio.run(consume_async())

    assert [type(event) for event in seen] == [RunStarted, StepStarted]
    assert info.value.execution_id == "exec-1"
    assert "connection reset by peer" in str(info.value)


@KINDS
@pytest.mark.parametrize(
    "make_timeout",
    [lambda: 7.5, lambda: httpx.Timeout(7.5), lambda: httpx2.Timeout(7.5)],
    ids=["float", "httpx.Timeout", "httpx2.Timeout"],
)
def test_timeouts_of_either_library_apply_to_an_httpx2_client(
    api: FakeAPI, kind: Kind, make_timeout: Callable[[], Any]
) -> None:
    client = api.client(kind, timeout=make_timeout())
    flow = client.flow(FLOW)

    resolve(flow.execute("hi"))
    resolve(flow.execute("hi", timeout=httpx.Timeout(1.5, read=2.5)))

    default, per_call = (request.extensions["timeout"] for request in api.requests)
    assert default == {"connect": 7.5, "read": 7.5, "write": 7.5, "pool": 7.5}
    assert per_call == {"connect": 1.5, "read": 2.5, "write": 1.5, "pool": 1.5}


@KINDS
def test_an_httpx2_timeout_without_a_client_builds_an_httpx2_pool(kind: Kind) -> None:
    client: Any = (Noukai if kind == "sync" else AsyncNoukai)(KEY, timeout=httpx2.Timeout(3.0))

    assert client.timeout == httpx2.Timeout(3.0)
    assert type(client._transport._client).__module__.startswith("httpx2")
    resolve(client.aclose() if kind == "async" else client.close())


def test_a_client_of_the_wrong_flavour_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"httpx\.Client for Noukai \(or an httpx2\.Client\)"):
        Noukai(KEY, http_client=httpx2.AsyncClient())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"httpx\.AsyncClient for AsyncNoukai"):
        AsyncNoukai(KEY, http_client=httpx2.Client())  # type: ignore[arg-type]


@KINDS
def test_an_httpx_client_with_an_httpx2_timeout_stays_on_httpx(kind: Kind) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=completed())

    transport = httpx.MockTransport(answer)
    client: Any = (
        Noukai(KEY, http_client=httpx.Client(transport=transport), timeout=httpx2.Timeout(4.0))
        if kind == "sync"
        else AsyncNoukai(
            KEY, http_client=httpx.AsyncClient(transport=transport), timeout=httpx2.Timeout(4.0)
        )
    )

    resolve(client.flow(FLOW).execute("hi", timeout=httpx2.Timeout(2.0, read=9.0)))

    (request,) = seen
    assert isinstance(request, httpx.Request)
    assert request.extensions["timeout"] == {"connect": 2.0, "read": 9.0, "write": 2.0, "pool": 2.0}
    assert "(httpx/" in request.headers["user-agent"]
