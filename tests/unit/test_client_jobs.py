"""Jobs: submission, polling, the not-found grace window, and wait() honouring its deadline."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, Kind, clock_in_use, make_client, resolve
from wire_double import (
    JOB_STARTED,
    KINDS,
    Wire,
    ok,
)

from noukai_sdk import (
    APITimeoutError,
    AsyncJob,
    FlowNotFoundError,
    Job,
    JobStatus,
)
from noukai_sdk._core.clock import Clock

SUBMIT = "/seq/o/p/s/jobs"
POLL = "/seq/o/p/s/jobs/j1"
ACCEPTED = {"executionId": "j1", "status": "started", "flowId": "f-1", "blockCount": 2}


class FakeClock(Clock):
    """Monotonic time that only moves when the SDK sleeps or a simulated request takes time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with clock_in_use(FakeClock()) as fake:
        yield fake


def submit(kind: Kind, mock: respx.MockRouter, **kwargs: Any) -> Job | AsyncJob:
    mock.post(SUBMIT).respond(200, json=ACCEPTED)
    return resolve(make_client(kind, session_id="s-1").flow("o/p/s").execute_async("m", **kwargs))


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_submission_body_headers_and_handle(kind: Kind) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(SUBMIT).respond(200, json=ACCEPTED)
        job = resolve(
            make_client(kind, session_id="s-1")
            .flow("o/p/s")
            .execute_async("m", parameters={"a": 1}, block_overrides={"b": {}}, trace=True)
        )
    request = route.calls.last.request
    assert request.content == (
        b'{"message":"m","parameters":{"a":1},"blockOverrides":{"b":{}},"iterationsUsed":0,'
        b'"accumulatedOutputs":{},"trace":true}'
    )
    assert request.headers["x-session-id"] == "s-1"
    assert (job.execution_id, job.flow_id, job.status, job.session_id) == (
        "j1",
        "f-1",
        "started",
        "s-1",
    )


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_poll_accepts_unknown_statuses(kind: Kind) -> None:
    with respx.mock(base_url=BASE) as mock:
        job = submit(kind, mock)
        mock.get(POLL).respond(200, json={"executionId": "j1", "status": "queued"})
        status = resolve(job.poll())
    assert isinstance(status, JobStatus)
    assert status.status == "queued"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_wait_polls_until_terminal(kind: Kind, clock: FakeClock) -> None:
    with respx.mock(base_url=BASE) as mock:
        job = submit(kind, mock)
        route = mock.get(POLL).mock(
            side_effect=[
                httpx.Response(200, json={"executionId": "j1", "status": "pending"}),
                httpx.Response(200, json={"executionId": "j1", "status": "running"}),
                httpx.Response(
                    200, json={"executionId": "j1", "status": "completed", "result": {"x": 1}}
                ),
            ]
        )
        status = resolve(job.wait(poll_interval=2.0))
    assert (status.status, status.result) == ("completed", {"x": 1})
    assert route.call_count == 3
    assert clock.sleeps == [2.0, 2.0]


@pytest.mark.parametrize("terminal", ["failed", "cancelled"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_failed_and_cancelled_are_terminal_and_returned(
    kind: Kind, terminal: str, clock: FakeClock
) -> None:
    with respx.mock(base_url=BASE) as mock:
        job = submit(kind, mock)
        mock.get(POLL).respond(200, json={"executionId": "j1", "status": terminal, "error": "why"})
        status = resolve(job.wait())
    assert (status.status, status.error) == (terminal, "why")
    assert clock.sleeps == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_wait_deadline_with_a_slow_server(kind: Kind, clock: FakeClock) -> None:
    """Each poll's timeout is bounded by the time left, so wait() ends at its deadline."""
    server_delay = 60.0
    poll_timeouts: list[float] = []

    def slow_server(request: httpx.Request) -> httpx.Response:
        read_timeout = request.extensions["timeout"]["read"]
        poll_timeouts.append(read_timeout)
        if read_timeout < server_delay:
            clock.now += read_timeout
            raise httpx.ReadTimeout("no answer yet", request=request)
        clock.now += server_delay
        return httpx.Response(200, json={"executionId": "j1", "status": "running"})

    with respx.mock(base_url=BASE) as mock:
        job = submit(kind, mock, timeout=5.0)
        mock.get(POLL).mock(side_effect=slow_server)
        start = clock.now
        with pytest.raises(APITimeoutError) as info:
            resolve(job.wait(timeout=10.0, poll_interval=3.0))
    assert str(info.value) == "Job j1 did not complete within 10s"
    assert clock.now - start <= 10.0 + 1e-9
    assert poll_timeouts and all(t <= 10.0 for t in poll_timeouts)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_wait_deadline_with_a_pending_job(kind: Kind, clock: FakeClock) -> None:
    with respx.mock(base_url=BASE) as mock:
        job = submit(kind, mock)
        route = mock.get(POLL).respond(200, json={"executionId": "j1", "status": "running"})
        with pytest.raises(APITimeoutError, match="Job j1 did not complete within 5s"):
            resolve(job.wait(timeout=5.0, poll_interval=2.0))
    assert clock.sleeps == [2.0, 2.0, 1.0]
    assert route.call_count == 4


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_not_found_grace_window(kind: Kind, clock: FakeClock) -> None:
    with respx.mock(base_url=BASE) as mock:
        job = submit(kind, mock)
        mock.get(POLL).respond(
            404, json={"detail": {"code": "JOB_NOT_FOUND", "message": "no such job"}}
        )
        early = resolve(job.poll())
        assert (early.execution_id, early.status) == ("j1", "pending")
        clock.now += 5.0
        with pytest.raises(FlowNotFoundError, match="no such job"):
            resolve(job.poll())


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_poll_timeout_is_validated_and_applied(kind: Kind) -> None:
    with respx.mock(base_url=BASE) as mock:
        job = submit(kind, mock)
        route = mock.get(POLL).respond(200, json={"executionId": "j1", "status": "running"})
        resolve(job.poll(timeout=7.0))
        assert route.calls.last.request.extensions["timeout"]["read"] == 7.0
        assert "x-session-id" not in route.calls.last.request.headers
        with pytest.raises(ValueError):
            resolve(job.poll(timeout=0))
        with pytest.raises(ValueError):
            resolve(job.wait(timeout=0))
    assert json.loads(route.calls.last.request.content or b"null") is None


@pytest.mark.parametrize("kind", KINDS)
def test_jobs_submit_poll_and_handle(kind: str) -> None:
    accepted = {"executionId": "job-1", "flowId": "f-1", "status": "queued", "blockCount": 1}
    status = {"executionId": "job-1", "status": "completed", "result": {"x": 1}}
    wire = Wire(ok(accepted, 202), ok(status))
    flow = wire.client(kind).flow("acme/support/triage")
    job = resolve(
        flow.execute_async(
            "hi",
            parameters={"k": 1},
            block_overrides={"b": {}},
            trace=True,
            version=3,
            session_id="s",
        )
    )
    assert (job.execution_id, job.flow_id) == ("job-1", "f-1")
    submit = wire.requests[0]
    assert submit.url.path == "/api/v1/seq/acme/support/triage/v3/jobs"
    assert (
        submit.content
        == b'{"message":"hi","parameters":{"k":1},"blockOverrides":{"b":{}},"iterationsUsed":0,"accumulatedOutputs":{},"trace":true}'
    )
    assert submit.headers["x-session-id"] == "s"
    result = resolve(job.wait(timeout=5, poll_interval=0.01))
    assert result.status == "completed"
    poll = wire.requests[1]
    assert poll.method == "GET" and poll.url.path == "/api/v1/seq/acme/support/triage/jobs/job-1"
    assert "x-session-id" not in poll.headers and poll.content == b""


@pytest.mark.parametrize("kind", KINDS)
def test_job_statuses_unknown_and_cancelled(kind: str) -> None:
    accepted = {"executionId": "job-1", "flowId": "f-1", "status": "queued", "blockCount": 1}
    wire = Wire(
        ok(accepted, 202),
        ok({"executionId": "job-1", "status": "queued_weird"}),
        ok({"executionId": "job-1", "status": "cancelled"}),
    )
    job = resolve(wire.client(kind).flow("acme/support/triage").execute_async("hi"))
    assert resolve(job.poll()).status == "queued_weird"
    assert resolve(job.wait(timeout=5, poll_interval=0.01)).status == "cancelled"


@pytest.mark.parametrize("kind", KINDS)
def test_a_404_right_after_submission_reads_as_pending(kind: str) -> None:
    wire = Wire(
        httpx.Response(202, json=JOB_STARTED),
        httpx.Response(404, json={"detail": {"code": "JOB_NOT_FOUND", "message": "not yet"}}),
    )
    job = resolve(wire.client(kind).flow("o/p/s").execute_async("hi", session_id="sx"))
    status = resolve(job.poll())
    assert (status.execution_id, status.status) == ("job-1", "pending")
    assert (job.status, job.session_id) == ("started", "sx")


@pytest.mark.parametrize("kind", KINDS)
def test_a_job_wait_that_only_sees_404s_still_honours_its_deadline(kind: str) -> None:
    from noukai_sdk import APITimeoutError

    wire = Wire(
        httpx.Response(202, json=JOB_STARTED),
        httpx.Response(404, json={"detail": "nope"}),
    )
    job = resolve(wire.client(kind).flow("o/p/s").execute_async("hi"))
    with pytest.raises(APITimeoutError):
        resolve(job.wait(timeout=0.05, poll_interval=0.01))


@pytest.mark.parametrize("kind", KINDS)
def test_other_job_poll_errors_propagate(kind: str) -> None:
    wire = Wire(httpx.Response(202, json=JOB_STARTED), httpx.Response(403, json={"detail": "no"}))
    job = resolve(wire.client(kind).flow("o/p/s").execute_async("hi"))
    from noukai_sdk import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        resolve(job.wait(timeout=5, poll_interval=0.01))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("timeout", "poll_interval"),
    [(float("nan"), 1.0), (0, 1.0), (-1, 1.0), (1.0, float("nan")), (1.0, -0.5), ("5", 1.0)],
)
def test_job_wait_arguments_are_checked_before_polling(
    kind: str, timeout: Any, poll_interval: Any
) -> None:
    wire = Wire(
        httpx.Response(202, json=JOB_STARTED),
        httpx.Response(200, json={"executionId": "job-1", "status": "running"}),
    )
    job = resolve(wire.client(kind).flow("o/p/s").execute_async("hi"))
    with pytest.raises(ValueError):
        resolve(job.wait(timeout=timeout, poll_interval=poll_interval))
    assert len(wire.requests) == 1


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_job_known_only_by_its_id_polls_and_waits(kind: Kind, clock: FakeClock) -> None:
    job = make_client(kind).flow("o/p/s").job("j1")
    assert isinstance(job, Job if kind == "sync" else AsyncJob)
    assert (job.execution_id, job.status, job.flow_id) == ("j1", "unknown", "")
    with respx.mock(base_url=BASE) as mock:
        route = mock.get(POLL).mock(
            side_effect=[
                httpx.Response(200, json={"executionId": "j1", "status": "running"}),
                httpx.Response(200, json={"executionId": "j1", "status": "completed", "result": 3}),
            ]
        )
        status = resolve(job.wait(timeout=10.0, poll_interval=1.0))
    assert (status.status, status.result) == ("completed", 3)
    assert route.call_count == 2 and clock.sleeps == [1.0]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_unknown_job_id_is_not_found_at_once(kind: Kind, clock: FakeClock) -> None:
    # No grace window: unlike a job just submitted, an id given by hand may simply be wrong.
    with respx.mock(base_url=BASE) as mock:
        mock.get("/seq/o/p/s/jobs/nope").respond(
            404, json={"detail": {"code": "JOB_NOT_FOUND", "message": "no such job"}}
        )
        with pytest.raises(FlowNotFoundError, match="no such job"):
            resolve(make_client(kind).flow("o/p/s").job("nope").poll())


@pytest.mark.parametrize("execution_id", ["", "a/b", 7])
def test_a_job_id_that_cannot_be_a_path_segment_is_refused(execution_id: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="execution_id"):
        make_client("sync").flow("o/p/s").job(execution_id)
