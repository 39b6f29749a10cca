"""The dev server under bad input: lone surrogates are a typed 400, and a large body is parsed
without holding up the other requests."""

from __future__ import annotations

import json
import select
import socket
import time
from pathlib import Path

import httpx
import pytest
from conftest import DevServerProcess, parse_sse

EXECUTE = "seq/demo/examples/hello-world/execute"
STEP = "seq/demo/examples/two-step/step"
JOBS = "seq/demo/examples/hello-world/jobs"


@pytest.mark.parametrize("path", [EXECUTE, STEP, JOBS])
@pytest.mark.parametrize(
    "text",
    ["\\ud800", "a\\udfff", "\\ud800\\u0041", "\\udc00\\ud800"],
    ids=["high", "low", "high-then-letter", "reversed-pair"],
)
def test_a_lone_surrogate_is_a_typed_400(http: httpx.Client, path: str, text: str) -> None:
    body = ('{"message": "' + text + '", "stepIndex": 0}').encode()
    response = http.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"]
    detail = response.json()["detail"]
    assert detail["code"] == "INVALID_JSON"
    assert "surrogate" in detail["message"]


def test_a_lone_surrogate_in_a_key_or_parameter_is_refused_too(http: httpx.Client) -> None:
    for body in (b'{"message": "x", "parameters": {"\\ud800": 1}}', b'{"\\udbff": "x"}'):
        response = http.post(EXECUTE, content=body)
        assert response.status_code == 400, response.text
        assert response.json()["detail"]["code"] == "INVALID_JSON"


def test_an_escaped_surrogate_pair_is_text_and_streams(http: httpx.Client) -> None:
    body = b'{"message": "hi \\ud83d\\ude00", "stepIndex": 0, "runRemaining": true}'
    streamed = http.post(STEP, content=body)
    assert streamed.status_code == 200
    events = parse_sse(streamed.text)
    assert events[-1][0] == "flow_completed"
    assert "hi \U0001f600" in json.dumps(events[-1][1]["result"], ensure_ascii=False)
    executed = http.post(EXECUTE, content=b'{"message": "\\ud83d\\ude00"}')
    assert executed.json()["result"] == "Hello! You said: \U0001f600"


def test_a_step_stream_after_a_refused_body_still_works(http: httpx.Client) -> None:
    assert http.post(STEP, content=b'{"message": "\\ud800", "stepIndex": 0}').status_code == 400
    response = http.post(STEP, json={"message": "fine", "stepIndex": 0, "runRemaining": True})
    assert parse_sse(response.text)[-1][0] == "flow_completed"


def _request(dev_server: DevServerProcess, path: str, body: bytes) -> bytes:
    head = (
        f"POST /api/v1/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {dev_server.api_key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def _queued_bytes(local_port: int, remote_port: int) -> int:
    """Bytes the kernel still holds for the loopback TCP socket ``local_port -> remote_port``:
    unsent or unacknowledged (tx) plus received but not yet read by its process (rx)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, queues = fields[1], fields[2], fields[4]
        if int(local.split(":")[1], 16) == local_port and int(remote.split(":")[1], 16) == (
            remote_port
        ):
            tx, rx = (int(part, 16) for part in queues.split(":"))
            return tx + rx
    raise AssertionError(f"no TCP socket {local_port} -> {remote_port}")


def _read_response(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_small_request_is_answered_while_a_large_body_is_parsed(
    dev_server: DevServerProcess,
) -> None:
    large = b"[" + b",".join([b"1"] * 4_000_000) + b"]"  # 8 MB: a JSON array, not an object
    with socket.create_connection(("127.0.0.1", dev_server.port)) as big:
        big.sendall(_request(dev_server, EXECUTE, large))
        client_port = big.getsockname()[1]
        # Wait until the server process has read the whole body (nothing left in either kernel
        # queue), so that from here on it is parsing, not receiving.
        deadline = time.monotonic() + 30
        while _queued_bytes(client_port, dev_server.port) or _queued_bytes(
            dev_server.port, client_port
        ):
            assert time.monotonic() < deadline, "the server never read the large body"
            time.sleep(0.001)
        with socket.create_connection(("127.0.0.1", dev_server.port)) as small:
            small.sendall(_request(dev_server, EXECUTE, b'{"message": "quick"}'))
            quick = _read_response(small)
        assert quick.startswith(b"HTTP/1.1 200"), quick[:200]
        assert b"Hello! You said: quick" in quick
        readable, _, _ = select.select([big], [], [], 0)
        assert not readable, "the large body was answered before the small request"
        answer = _read_response(big)
    assert answer.startswith(b"HTTP/1.1 422"), answer[:200]
    assert b"INVALID_REQUEST" in answer


def test_a_large_valid_body_still_runs(http: httpx.Client) -> None:
    values = list(range(200_000))
    response = http.post(EXECUTE, json={"message": "big", "parameters": {"values": values}})
    assert response.status_code == 200, response.text[:300]
    assert response.json()["result"] == "Hello! You said: big"
