"""Fault injection against both clients over real TCP: every outcome is a typed NoukaiError.

A tiny raw socket server plays scripted HTTP/1.1 answers (truncated bodies, invalid JSON, silence,
garbage), so the whole stack below the public API runs for real. Written from the documented
retry and error behaviour.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from noukai_sdk import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncNoukai,
    FlowExecutionError,
    Noukai,
    NoukaiError,
)

KEY = "nk_fault_injection_key_123"
Script = Callable[[socket.socket, bytes], None]


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class ScriptedServer:
    """Answers the n-th connection with ``scripts[min(n, len-1)]``; records every request."""

    def __init__(self, scripts: list[Script]) -> None:
        self.scripts = scripts
        self.requests: list[bytes] = []
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._sock.settimeout(0.1)
        n = 0
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            script = self.scripts[min(n, len(self.scripts) - 1)]
            n += 1
            threading.Thread(target=self._handle, args=(conn, script), daemon=True).start()

    def _handle(self, conn: socket.socket, script: Script) -> None:
        with conn:
            try:
                request = _read_request(conn)
                self.requests.append(request)
                script(conn, request)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(2)


def respond(status: int, body: bytes, *, headers: dict[str, str] | None = None) -> Script:
    def script(conn: socket.socket, _request: bytes) -> None:
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        conn.sendall(
            f"HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n".encode()
            + body
        )

    return script


def cut_mid_body(conn: socket.socket, _request: bytes) -> None:
    conn.sendall(
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"status": "comp'
    )
    conn.shutdown(socket.SHUT_RDWR)


def close_without_answer(conn: socket.socket, _request: bytes) -> None:
    conn.shutdown(socket.SHUT_RDWR)


def garbage(conn: socket.socket, _request: bytes) -> None:
    conn.sendall(b"this is not http at all\r\n\r\n")
    conn.shutdown(socket.SHUT_RDWR)


def silent(seconds: float) -> Script:
    def script(conn: socket.socket, _request: bytes) -> None:
        time.sleep(seconds)

    return script


def sse_cut(conn: socket.socket, _request: bytes) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    frame = b'event: run_started\ndata: {"runId": "r", "executionId": "e"}\n\n'
    conn.sendall(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
    conn.sendall(b'40\r\nevent: step_started\ndata: {"step')
    conn.shutdown(socket.SHUT_RDWR)


def sse_silent_after_start(conn: socket.socket, _request: bytes) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    frame = b'event: run_started\ndata: {"runId": "r", "executionId": "e"}\n\n'
    conn.sendall(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
    time.sleep(3)


COMPLETED = json.dumps(
    {"status": "completed", "result": 1, "flowId": "f", "blockCount": 1, "executionId": "e"}
).encode()
JOB = json.dumps({"executionId": "e", "status": "completed", "result": 1}).encode()


@pytest.fixture
def server_factory() -> Iterator[Callable[[list[Script]], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def make(scripts: list[Script]) -> ScriptedServer:
        server = ScriptedServer(scripts)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def call(kind: str, port: int, action: str, **client_kwargs: Any) -> Any:
    """Run one public API call against the dev URL on ``port`` with either client."""
    client_kwargs.setdefault("timeout", 2.0)
    if kind == "sync":
        with Noukai(KEY, env="dev", dev_port=port, **client_kwargs) as client:
            flow = client.flow("o/p/s")
            if action == "execute":
                return flow.execute("hi")
            if action == "poll":
                return _job(flow).poll()
            if action == "trace":
                return flow.run("e").trace()
            if action == "steps":
                return list(flow.events("hi"))
            if action == "submit":
                return flow.execute_async("hi")
            raise AssertionError(action)

    async def run() -> Any:
        async with AsyncNoukai(KEY, env="dev", dev_port=port, **client_kwargs) as client:
            flow = client.flow("o/p/s")
            if action == "execute":
                return await flow.execute("hi")
            if action == "poll":
                return await (await _ajob(flow)).poll()
            if action == "trace":
                return await flow.run("e").trace()
            if action == "steps":
                return [event async for event in flow.events("hi")]
            if action == "submit":
                return await flow.execute_async("hi")
            raise AssertionError(action)

    return asyncio.run(run())


def _job(flow: Any) -> Any:
    return flow.execute_async("hi")


async def _ajob(flow: Any) -> Any:
    return await flow.execute_async("hi")


ACCEPTED = json.dumps({"executionId": "e", "flowId": "f", "status": "queued"}).encode()
KINDS = ["sync", "async"]


@pytest.mark.parametrize("kind", KINDS)
def test_connection_closed_mid_body_on_execute_is_a_connection_error(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([cut_mid_body])
    with pytest.raises(APIConnectionError) as info:
        call(kind, server.port, "execute")
    assert not isinstance(info.value, APITimeoutError)
    assert len(server.requests) == 1  # a POST that reached the server is never retried
    assert KEY not in str(info.value) and KEY not in repr(info.value)


@pytest.mark.parametrize("kind", KINDS)
def test_connection_closed_without_answer_on_execute(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([close_without_answer])
    with pytest.raises(APIConnectionError):
        call(kind, server.port, "execute")
    assert len(server.requests) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_non_http_answer_is_a_connection_error(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([garbage])
    with pytest.raises(APIConnectionError):
        call(kind, server.port, "execute")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "body", [b'{"status": "completed", "resu', b"not json", b"", b"[1, 2]", b'{"status": "weird"}']
)
def test_a_2xx_execute_body_that_is_not_a_result_is_a_validation_error(
    kind: str, body: bytes, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([respond(200, body)])
    with pytest.raises(APIResponseValidationError) as info:
        call(kind, server.port, "execute")
    assert info.value.raw_body == body
    assert info.value.status_code == 200
    assert "None" not in str(info.value).split(":")[0]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("action", ["trace", "submit"])
def test_other_2xx_bodies_that_do_not_fit_are_validation_errors(
    kind: str, action: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([respond(200, b'{"truncated": ')])
    with pytest.raises(APIResponseValidationError):
        call(kind, server.port, action)


@pytest.mark.parametrize("kind", KINDS)
def test_a_poll_with_an_invalid_body_is_a_validation_error(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([respond(202, ACCEPTED), respond(200, b"<html>oops</html>")])
    with pytest.raises(APIResponseValidationError):
        call(kind, server.port, "poll")


@pytest.mark.parametrize("kind", KINDS)
def test_a_slow_response_times_out_promptly(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([silent(3.0)])
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        call(kind, server.port, "execute", timeout=0.3)
    assert time.monotonic() - started < 2.0
    assert len(server.requests) == 1  # the POST reached the server: not retried


@pytest.mark.parametrize("kind", KINDS)
def test_a_get_is_retried_after_a_5xx_and_then_succeeds(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    trace = json.dumps({"flowRun": {"id": "r", "flowId": "f", "status": "completed"}, "steps": []})
    server = server_factory([respond(503, b'{"detail": "busy"}'), respond(200, trace.encode())])
    events: list[dict[str, Any]] = []
    result = call(kind, server.port, "trace", log_handler=events.append)
    assert result.flow_run.id == "r"
    assert len(server.requests) == 2
    assert [e["phase"] for e in events] == ["request", "response", "retry", "request", "response"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_get_that_keeps_failing_raises_the_last_mapped_error(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([respond(502, b"bad gateway")])
    with pytest.raises(FlowExecutionError) as info:
        call(kind, server.port, "trace", max_retries=2)
    assert info.value.status_code == 502
    assert len(server.requests) == 3
    assert "None" not in str(info.value)


@pytest.mark.parametrize("kind", KINDS)
def test_a_get_is_retried_after_a_dropped_connection(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    trace = json.dumps({"flowRun": {"id": "r", "flowId": "f", "status": "completed"}, "steps": []})
    server = server_factory([close_without_answer, respond(200, trace.encode())])
    assert call(kind, server.port, "trace").flow_run.id == "r"


@pytest.mark.parametrize("kind", KINDS)
def test_max_retries_zero_disables_get_retries(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([respond(503, b"{}")])
    with pytest.raises(FlowExecutionError):
        call(kind, server.port, "trace", max_retries=0)
    assert len(server.requests) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("action", ["execute", "trace", "steps", "submit"])
def test_connection_refused_is_a_connection_error(kind: str, action: str) -> None:
    port = _free_port()
    started = time.monotonic()
    with pytest.raises(APIConnectionError) as info:
        call(kind, port, action, max_retries=0)
    assert time.monotonic() - started < 5
    assert KEY not in str(info.value)


@pytest.mark.parametrize("kind", KINDS)
def test_a_step_stream_cut_mid_frame_is_a_connection_error(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([sse_cut])
    with pytest.raises(APIConnectionError):
        call(kind, server.port, "steps")


@pytest.mark.parametrize("kind", KINDS)
def test_a_silent_step_stream_times_out(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([sse_silent_after_start])
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        call(kind, server.port, "steps", timeout=0.3)
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("kind", KINDS)
def test_a_step_stream_error_status_is_mapped(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory(
        [
            respond(
                404,
                b'{"detail": {"code": "FLOW_NOT_FOUND", "message": "nope"}}',
                headers={"X-Request-ID": "rq"},
            )
        ]
    )
    with pytest.raises(NoukaiError) as info:
        call(kind, server.port, "steps")
    assert (info.value.status_code, info.value.code, info.value.message) == (
        404,
        "FLOW_NOT_FOUND",
        "nope",
    )
    assert info.value.request_id == "rq"


@pytest.mark.parametrize("kind", KINDS)
def test_job_wait_is_bounded_by_its_deadline_when_a_poll_hangs(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    accepted = json.dumps({"executionId": "e", "flowId": "f", "status": "queued", "blockCount": 1})
    server = server_factory([respond(202, accepted.encode()), silent(5.0)])

    async def wait_async() -> Any:
        async with AsyncNoukai(KEY, env="dev", dev_port=server.port, timeout=30) as client:
            job = await client.flow("o/p/s").execute_async("hi")
            return await job.wait(timeout=0.5, poll_interval=0.05)

    started = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        if kind == "sync":
            with Noukai(KEY, env="dev", dev_port=server.port, timeout=30) as client:
                client.flow("o/p/s").execute_async("hi").wait(timeout=0.5, poll_interval=0.05)
        else:
            asyncio.run(wait_async())
    assert time.monotonic() - started < 2.5
    assert str(info.value) == "Job e did not complete within 0.5s"


def _user_agent(raw: bytes) -> str:
    for line in raw.split(b"\r\n"):
        if line.lower().startswith(b"user-agent:"):
            return line.split(b":", 1)[1].strip().decode()
    raise AssertionError("no User-Agent")


@pytest.mark.parametrize("session_id", [None, "sid-1"])
@pytest.mark.parametrize("cookies", [False, True])
def test_request_bytes_match_a_plain_httpx_json_post(
    session_id: str | None, cookies: bool, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    """Header order, compact JSON and raw UTF-8: byte for byte what ``httpx`` ``json=`` sends."""
    server = server_factory([respond(200, COMPLETED)])
    body = {
        "message": "héllo ✓",
        "parameters": {"b": [1, 2], "a": None},
        "iterationsUsed": 0,
        "accumulatedOutputs": {},
        "trace": False,
    }
    jar = httpx.Cookies()
    if cookies:
        jar.set("lb", "n1", domain="localhost")
    with Noukai(
        KEY, env="dev", dev_port=server.port, http_client=httpx.Client(cookies=jar)
    ) as client:
        client.flow("o/p/s").execute(
            "héllo ✓", parameters={"b": [1, 2], "a": None}, session_id=session_id
        )
    headers = {
        "Authorization": f"Bearer {KEY}",
        "X-Noukai-API-Version": "2026-05-31",
        "User-Agent": _user_agent(server.requests[0]),
        "Accept": "application/json",
    }
    if session_id is not None:
        headers["X-Session-Id"] = session_id
    with httpx.Client(cookies=jar) as plain:
        plain.post(
            f"http://localhost:{server.port}/api/v1/seq/o/p/s/execute", json=body, headers=headers
        )
    ours, reference = server.requests
    assert ours == reference


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("huge", [1e12, float("inf")])
def test_huge_timeouts_mean_no_practical_limit(
    kind: str, huge: float, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([respond(200, COMPLETED)])
    assert call(kind, server.port, "execute", timeout=huge).status == "completed"


def test_a_huge_per_call_timeout_and_job_wait(
    server_factory: Callable[[list[Script]], ScriptedServer],
) -> None:
    accepted = json.dumps({"executionId": "e", "flowId": "f", "status": "queued", "blockCount": 1})
    server = server_factory(
        [respond(200, COMPLETED), respond(202, accepted.encode()), respond(200, JOB)]
    )
    with Noukai(KEY, env="dev", dev_port=server.port) as client:
        flow = client.flow("o/p/s")
        assert flow.execute("hi", timeout=float("inf")).status == "completed"
        job = flow.execute_async("hi")
        assert job.wait(timeout=float("inf"), poll_interval=0.01).status == "completed"


def stall_in_body(conn: socket.socket, _request: bytes) -> None:
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"
    )
    time.sleep(3)


@pytest.mark.parametrize("kind", KINDS)
def test_a_body_that_stalls_times_out(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    server = server_factory([stall_in_body])
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        call(kind, server.port, "execute", timeout=0.3)
    assert time.monotonic() - started < 2.0
    assert len(server.requests) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_get_cut_mid_body_is_retried(
    kind: str, server_factory: Callable[[list[Script]], ScriptedServer]
) -> None:
    trace = json.dumps({"flowRun": {"id": "r", "flowId": "f", "status": "completed"}, "steps": []})
    server = server_factory([cut_mid_body, stall_in_body, respond(200, trace.encode())])
    assert call(kind, server.port, "trace", timeout=0.3, max_retries=2).flow_run.id == "r"
    assert len(server.requests) == 3
