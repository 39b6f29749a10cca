"""The log_handler hook: request/response/retry events, payloads only on request, raising handlers."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, Kind, completed, make_client, resolve

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


def test_stream_events_are_marked_and_never_carry_bodies() -> None:
    events: list[dict[str, Any]] = []
    client = make_client("sync", log_handler=events.append, log_payloads=True)
    sse = b'event: run_started\ndata: {"eventType": "run_started", "runId": "r"}\n\n'
    sse += b'event: flow_completed\ndata: {"status": "completed", "executionId": "e1"}\n\n'
    with respx.mock(base_url=BASE) as mock:
        mock.get("/seq/o/p/s/runs/e1/trace/stream").respond(
            200, content=sse, headers={"X-Request-ID": "r9"}
        )
        list(client.flow("o/p/s").run("e1").live_trace())
    path = "/seq/o/p/s/runs/e1/trace/stream"
    assert events == [
        {"phase": "request", "method": "GET", "path": path, "attempt": 0, "streaming": True},
        {
            "phase": "response",
            "method": "GET",
            "path": path,
            "status_code": 200,
            "request_id": "r9",
            "attempt": 0,
            "streaming": True,
        },
    ]
