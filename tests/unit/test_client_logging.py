"""The log_handler hook: request/response/retry events, payloads only on request, raising handlers."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, KEY, Kind, completed, make_client, resolve
from wire_double import (
    KINDS,
    SSE,
    Wire,
    collect,
    ok,
    paused_body,
    short_completed,
)

from noukai_sdk import (
    RunStarted,
)

TRACE_BODY = {"flowRun": {"id": "e1", "flowId": "f", "status": "completed"}, "steps": []}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_events_without_payloads(kind: Kind) -> None:
    events: list[dict[str, Any]] = []
    client = make_client(kind, log_handler=events.append)
    with respx.mock(base_url=BASE) as mock:
        mock.post("/seq/o/p/s/execute").respond(
            200, json=completed(), headers={"X-Request-ID": "r1"}
        )
        resolve(client.flow("o/p/s").execute("hi"))
    assert events == [
        {"phase": "request", "method": "POST", "path": "/seq/o/p/s/execute", "attempt": 0},
        {
            "phase": "response",
            "method": "POST",
            "path": "/seq/o/p/s/execute",
            "status_code": 200,
            "request_id": "r1",
            "attempt": 0,
        },
    ]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_events_with_payloads(kind: Kind) -> None:
    events: list[dict[str, Any]] = []
    client = make_client(kind, log_handler=events.append, log_payloads=True)
    with respx.mock(base_url=BASE) as mock:
        mock.post("/seq/o/p/s/execute").respond(200, json=completed())
        resolve(client.flow("o/p/s").execute("hi"))
    assert events[0]["request_body"] == {
        "message": "hi",
        "parameters": {},
        "iterationsUsed": 0,
        "accumulatedOutputs": {},
        "trace": False,
    }
    assert events[1]["response_body"] == completed()


def test_retry_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    events: list[dict[str, Any]] = []
    client = make_client("sync", log_handler=events.append)
    with respx.mock(base_url=BASE) as mock:
        mock.get("/seq/o/p/s/runs/e1/trace").mock(
            side_effect=[httpx.Response(503), httpx.Response(200, json=TRACE_BODY)]
        )
        client.flow("o/p/s").run("e1").trace()
    assert [e["phase"] for e in events] == ["request", "response", "retry", "request", "response"]
    retry = events[2]
    assert retry["reason"] == "HTTP 503"
    assert (retry["attempt"], retry["next_attempt"]) == (0, 1)
    assert 0.375 <= retry["delay"] <= 0.625
    assert [e["attempt"] for e in events if e["phase"] != "retry"] == [0, 0, 1, 1]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_raising_handler_never_breaks_requests_and_is_reported_once(
    kind: Kind, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []

    def broken(event: dict[str, Any]) -> None:
        calls.append(event["phase"])
        raise RuntimeError("handler bug")

    client = make_client(kind, log_handler=broken)
    with respx.mock(base_url=BASE) as mock, caplog.at_level(logging.WARNING, logger="noukai_sdk"):
        mock.post("/seq/o/p/s/execute").respond(200, json=completed())
        first = resolve(client.flow("o/p/s").execute("hi"))
        second = resolve(client.flow("o/p/s").execute("again"))
    assert first.status == second.status == "completed"
    assert calls == ["request", "response", "request", "response"]
    reports = [r for r in caplog.records if "log_handler raised" in r.getMessage()]
    assert len(reports) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_log_events_shapes_and_secrecy(kind: str) -> None:
    events: list[dict[str, Any]] = []
    wire = Wire(httpx.Response(200, json=short_completed(), headers={"X-Request-ID": "rid"}))
    client = wire.client(kind, log_handler=events.append, log_payloads=True)
    resolve(client.flow("acme/support/triage").execute("hi"))
    request_event, response_event = events
    assert request_event == {
        "phase": "request",
        "method": "POST",
        "path": "/seq/acme/support/triage/execute",
        "attempt": 0,
        "request_body": {
            "message": "hi",
            "parameters": {},
            "iterationsUsed": 0,
            "accumulatedOutputs": {},
            "trace": False,
        },
    }
    assert response_event == {
        "phase": "response",
        "method": "POST",
        "path": "/seq/acme/support/triage/execute",
        "status_code": 200,
        "request_id": "rid",
        "attempt": 0,
        "response_body": short_completed(),
    }
    assert KEY not in repr(events)


@pytest.mark.parametrize("kind", KINDS)
def test_a_log_handler_that_redacts_events_in_place_does_not_change_the_request(
    kind: str,
) -> None:
    def redact(event: dict[str, Any]) -> None:
        body = event.get("request_body")
        if body is not None:
            body["message"] = "***"
            body["parameters"]["password"] = "***"

    wire = Wire(ok(paused_body()), ok(short_completed()))
    flow = wire.client(kind, log_handler=redact, log_payloads=True).flow("acme/support/triage")
    parameters = {"password": "hunter2"}
    paused = resolve(flow.execute("secret", parameters=parameters))
    results = [{"role": "tool", "tool_call_id": "t", "content": "c"}]
    resolve(paused.resume_sync(results) if kind == "sync" else paused.resume(results))
    first, resumed = (json.loads(body) for body in wire.bodies())
    assert first["message"] == "secret"
    assert first["parameters"] == resumed["parameters"] == {"password": "hunter2"}
    assert parameters == {"password": "hunter2"}


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
    resolve(flow.run("e").step_trace("s", attempt=1, loop_index=2))
    assert {e["path"] for e in events} == {"/seq/o/p/s/runs/e/steps/s/trace"}
