"""Inside a capture scope every request carries the scope's ``X-Session-Id``: job polls, traces and
live traces too, not only the flow calls; outside a scope those requests carry none."""

from __future__ import annotations

import httpx
import respx
from client_helpers import BASE, make_client

from noukai_sdk import trace_scope_sync

TRACE_BODY = {"flowRun": {"id": "e1", "flowId": "f", "status": "completed"}, "steps": []}
STEP_BODY = {"stepId": "s1", "attempt": 1, "status": "completed"}
JOB_BODY = {"executionId": "e1", "status": "completed", "result": 1}
LIVE_BODY = b'event: flow_completed\ndata: {"status": "completed", "executionId": "e1"}\n\n'


def _routes(mock: respx.MockRouter) -> list[respx.Route]:
    return [
        mock.get("/seq/o/p/s/runs/e1/trace").mock(
            return_value=httpx.Response(200, json=TRACE_BODY)
        ),
        mock.get("/seq/o/p/s/runs/e1/steps/s1/trace").mock(
            return_value=httpx.Response(200, json=STEP_BODY)
        ),
        mock.get("/seq/o/p/s/runs/e1/trace/stream").mock(
            return_value=httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=LIVE_BODY
            )
        ),
    ]


def _read_run(client: object) -> None:
    run = client.flow("o/p/s").run("e1")  # type: ignore[attr-defined]
    run.trace()
    run.step_trace("s1")
    with run.live_trace() as stream:
        list(stream)


def test_every_request_in_a_capture_scope_carries_its_session_id() -> None:
    client = make_client("sync")
    with respx.mock(base_url=BASE) as mock:
        routes = _routes(mock)
        with trace_scope_sync(client=client) as scope:  # type: ignore[arg-type]
            _read_run(client)
    sent = [route.calls.last.request.headers.get("x-session-id") for route in routes]
    assert sent == [scope.session_id] * 3


def test_outside_a_scope_trace_requests_carry_no_session_id() -> None:
    client = make_client("sync", session_id="client-default")
    with respx.mock(base_url=BASE) as mock:
        routes = _routes(mock)
        _read_run(client)
    assert [route.calls.last.request.headers.get("x-session-id") for route in routes] == [None] * 3


def test_job_polls_in_a_capture_scope_carry_its_session_id() -> None:
    client = make_client("sync")
    with respx.mock(base_url=BASE) as mock:
        mock.post("/seq/o/p/s/jobs").mock(
            return_value=httpx.Response(
                202, json={"executionId": "e1", "status": "started", "flowId": "f", "blockCount": 1}
            )
        )
        poll = mock.get("/seq/o/p/s/jobs/e1").mock(return_value=httpx.Response(200, json=JOB_BODY))
        with trace_scope_sync(client=client) as scope:  # type: ignore[arg-type]
            job = client.flow("o/p/s").execute_async("hi")
            job.poll()
    assert poll.calls.last.request.headers["x-session-id"] == scope.session_id
