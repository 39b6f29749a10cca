"""Request hardening over real TCP against a scripted server: a retried 5xx waits for its
``Retry-After``, an echoed (JSON-escaped) API key never shows, and every request inside a capture
scope carries the scope's ``X-Session-Id``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from noukai_sdk import AuthenticationError, Noukai, trace_scope_sync

KEY = "nk_test_tcp_requests_0123456789"
TRACE_BODY = {"flowRun": {"id": "e1", "flowId": "f", "status": "completed"}, "steps": []}
Answer = tuple[int, dict[str, str], bytes]


class ScriptedApi(ThreadingHTTPServer):
    """Answers each request with the next scripted answer for its path; records the headers."""

    def __init__(self, answers: dict[str, list[Answer]]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers = answers
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: ScriptedApi

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self._answer()

    def _answer(self) -> None:
        path = self.path.split("?", 1)[0].removeprefix("/api/v1")
        with self.server.lock:
            self.server.seen.append((path, {k.lower(): v for k, v in self.headers.items()}))
            script = self.server.answers[path]
            status, headers, body = script.pop(0) if len(script) > 1 else script[0]
        self.send_response(status)
        for name, value in {"content-type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[list[ScriptedApi]]:
    servers: list[ScriptedApi] = []
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def serve(servers: list[ScriptedApi], answers: dict[str, list[Answer]]) -> ScriptedApi:
    server = ScriptedApi(answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    servers.append(server)
    return server


def client(server: ScriptedApi, **options: Any) -> Noukai:
    return Noukai(KEY, env="dev", dev_port=server.server_address[1], **options)


def test_a_retried_server_error_waits_for_its_retry_after(api: list[ScriptedApi]) -> None:
    trace_path = "/seq/o/p/s/runs/e1/trace"
    server = serve(
        api,
        {
            trace_path: [
                (503, {"retry-after": "1"}, b'{"detail": "busy"}'),
                (200, {}, json.dumps(TRACE_BODY).encode()),
            ]
        },
    )
    log: list[dict[str, Any]] = []
    with client(server, log_handler=log.append) as noukai:
        trace = noukai.flow("o/p/s").run("e1").trace()
    assert trace.flow_run.id == "e1"
    (retry,) = [event for event in log if event["phase"] == "retry"]
    assert retry["delay"] == 1.0 and retry["reason"] == "HTTP 503"
    assert [path for path, _ in server.seen] == [trace_path, trace_path]


def test_a_key_echoed_json_escaped_never_shows(api: list[ScriptedApi]) -> None:
    escaped = "".join(f"\\u{ord(char):04x}" for char in KEY)
    body = ('{"detail": "unknown key ' + escaped + '"}').encode()
    server = serve(api, {"/seq/o/p/s/execute": [(401, {}, body)]})
    log: list[dict[str, Any]] = []
    with (
        client(server, log_handler=log.append, log_payloads=True) as noukai,
        pytest.raises(AuthenticationError) as caught,
    ):
        noukai.flow("o/p/s").execute("hi")
    shown = " ".join([str(caught.value), repr(caught.value.response_body), repr(log)])
    assert KEY not in shown and escaped not in shown and "nk_***" in shown


def test_every_request_in_a_capture_scope_carries_the_session(api: list[ScriptedApi]) -> None:
    accepted = {"executionId": "e1", "status": "started", "flowId": "f", "blockCount": 1}
    job = {"executionId": "e1", "status": "completed", "result": 1}
    server = serve(
        api,
        {
            "/seq/o/p/s/jobs": [(202, {}, json.dumps(accepted).encode())],
            "/seq/o/p/s/jobs/e1": [(200, {}, json.dumps(job).encode())],
            "/seq/o/p/s/runs/e1/trace": [(200, {}, json.dumps(TRACE_BODY).encode())],
        },
    )
    with client(server) as noukai, trace_scope_sync(client=noukai) as scope:
        flow = noukai.flow("o/p/s")
        flow.execute_async("hi").poll()
        flow.run("e1").trace()
    assert [(path, headers.get("x-session-id")) for path, headers in server.seen] == [
        ("/seq/o/p/s/jobs", scope.session_id),
        ("/seq/o/p/s/jobs/e1", scope.session_id),
        ("/seq/o/p/s/runs/e1/trace", scope.session_id),
    ]
