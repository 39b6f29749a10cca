"""Streams against a misbehaving server over real TCP: stalls, bad bytes, huge events, cut
connections. Every failure must be a typed ``NoukaiError`` (no hang, no raw exception), for the
sync and the async client alike, and leaving a stream must hand its connection back at once."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pytest

from noukai_sdk import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncNoukai,
    FlowCompleted,
    Noukai,
    NoukaiError,
    RunStarted,
    StepCompleted,
    StepOutput,
    StreamEvent,
    StreamInterruptedError,
)
from noukai_sdk._core.events import wire_event_type

Mode = Literal["sync", "async"]
MODES: list[Mode] = ["sync", "async"]
STALL = object()


def sse(cls: type[StreamEvent], **fields: object) -> bytes:
    payload = cls.model_validate(fields).to_wire()
    return f"event: {wire_event_type(cls)}\ndata: {json.dumps(payload)}\n\n".encode()


RUN_STARTED = sse(RunStarted, run_id="run-1", execution_id="exec-1")


@dataclass
class ScriptedServer:
    """A one-response-per-connection HTTP server that sends scripted body parts."""

    head: bytes
    parts: Sequence[bytes | object]
    stall_seconds: float = 5.0
    content_type: bytes = b"text/event-stream"
    closed_by_client: threading.Event = field(default_factory=threading.Event)
    port: int = 0

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            _read_request(conn)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: " + self.content_type + b"\r\n")
                conn.sendall(self.head)
                conn.sendall(b"\r\n")
                for part in self.parts:
                    if part is STALL:
                        self._wait_for_client_close(conn, self.stall_seconds)
                    else:
                        assert isinstance(part, bytes)
                        conn.sendall(part)
            except OSError:
                self.closed_by_client.set()

    def _wait_for_client_close(self, conn: socket.socket, seconds: float) -> None:
        conn.settimeout(seconds)
        try:
            if conn.recv(1) == b"":
                self.closed_by_client.set()
        except TimeoutError:
            pass
        except OSError:
            self.closed_by_client.set()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)


@pytest.fixture
def serve() -> Iterator[list[ScriptedServer]]:
    servers: list[ScriptedServer] = []
    yield servers
    for server in servers:
        server.stop()


def start(
    servers: list[ScriptedServer], parts: Sequence[bytes | object], *, head: bytes = b""
) -> ScriptedServer:
    server = ScriptedServer(head=head, parts=parts)
    server.start()
    servers.append(server)
    return server


def collect(mode: Mode, port: int, *, timeout: float | None = None) -> list[StreamEvent]:
    """Iterate ``events()`` of a flow on the scripted server to the end."""
    options = {"env": "dev", "dev_port": port, "max_retries": 0}
    if mode == "sync":
        with Noukai("nk_test", **options) as client:  # type: ignore[arg-type]
            return list(client.flow("acme/main/grade-3").events(message="hi", timeout=timeout))

    async def run() -> list[StreamEvent]:
        async with AsyncNoukai("nk_test", **options) as client:  # type: ignore[arg-type]
            stream = client.flow("acme/main/grade-3").events(message="hi", timeout=timeout)
            return [event async for event in stream]

    return asyncio.run(run())


@pytest.mark.parametrize("mode", MODES)
def test_a_stalled_stream_times_out_after_the_per_call_timeout(
    serve: list[ScriptedServer], mode: Mode
) -> None:
    server = start(serve, [RUN_STARTED, STALL])
    began = time.monotonic()
    with pytest.raises(APITimeoutError) as info:
        collect(mode, server.port, timeout=0.3)
    assert time.monotonic() - began < 3
    assert info.value.execution_id == "exec-1"


@pytest.mark.parametrize("mode", MODES)
def test_invalid_utf8_in_event_data_is_a_typed_error(
    serve: list[ScriptedServer], mode: Mode
) -> None:
    server = start(serve, [RUN_STARTED, b'event: step_output\ndata: {"stepId": "\xff\xfe"}\n\n'])
    with pytest.raises(APIResponseValidationError, match="not valid UTF-8"):
        collect(mode, server.port)


@pytest.mark.parametrize("mode", MODES)
def test_garbage_bytes_are_ignored_and_the_truncated_run_is_reported(
    serve: list[ScriptedServer], mode: Mode
) -> None:
    garbage = b"\x00\x01\x80 not a field\n\n\xfe\xff\n\n"
    server = start(serve, [RUN_STARTED, garbage])
    with pytest.raises(StreamInterruptedError) as info:
        collect(mode, server.port)
    assert info.value.execution_id == "exec-1"


@pytest.mark.parametrize("mode", MODES)
def test_a_malformed_control_event_raises_instead_of_being_dropped(
    serve: list[ScriptedServer], mode: Mode
) -> None:
    server = start(serve, [RUN_STARTED, b"event: step_completed\ndata: {not json\n\n"])
    with pytest.raises(APIResponseValidationError, match="step_completed"):
        collect(mode, server.port)


def test_an_event_beyond_the_size_bound_is_refused_not_buffered_forever(
    serve: list[ScriptedServer],
) -> None:
    huge = b"event: step_output\ndata: " + b"x" * (65 * 1024 * 1024) + b"\n\n"
    server = start(serve, [RUN_STARTED, huge])
    with pytest.raises(APIResponseValidationError, match="larger than"):
        collect("sync", server.port)


@pytest.mark.parametrize("mode", MODES)
def test_a_large_event_arriving_in_small_pieces_is_decoded_whole(
    serve: list[ScriptedServer], mode: Mode
) -> None:
    text = "y" * (4 * 1024 * 1024)
    frame = sse(StepOutput, step_id="s-1", output_data=text)
    pieces = [frame[i : i + 7000] for i in range(0, len(frame), 7000)]
    server = start(serve, [RUN_STARTED, *pieces, sse(FlowCompleted, execution_id="exec-1")])
    events = collect(mode, server.port)
    assert [event.type for event in events] == ["run_started", "step_output", "flow_completed"]
    output = events[1]
    assert isinstance(output, StepOutput)
    assert output.output_data == text


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("head", "tail"),
    [
        (b"content-length: 5000\r\n", b'event: step_completed\ndata: {"stepId":'),
        (b"transfer-encoding: chunked\r\n", b"not-a-chunk-size\r\n"),
        (b"connection: close\r\n", b'event: step_completed\ndata: {"stepId":'),
    ],
    ids=["content-length-cut", "broken-chunking", "eof-mid-event"],
)
def test_a_connection_dropped_mid_event_reports_the_cursor(
    serve: list[ScriptedServer], mode: Mode, head: bytes, tail: bytes
) -> None:
    first = RUN_STARTED
    if b"chunked" in head:
        first = f"{len(RUN_STARTED):x}\r\n".encode() + RUN_STARTED + b"\r\n"
    server = start(serve, [first, tail], head=head)
    with pytest.raises(StreamInterruptedError) as info:
        collect(mode, server.port)
    error = info.value
    assert isinstance(error, NoukaiError)
    assert error.execution_id == "exec-1"
    assert error.step_index == 0


def test_closing_a_sync_stream_early_closes_its_connection(serve: list[ScriptedServer]) -> None:
    server = start(serve, [RUN_STARTED, STALL])
    with Noukai("nk_test", env="dev", dev_port=server.port, max_retries=0) as client:
        with client.flow("acme/main/grade-3").events(message="hi") as stream:
            assert isinstance(next(stream), RunStarted)
        assert server.closed_by_client.wait(2)


async def test_leaving_an_async_stream_early_closes_its_connection(
    serve: list[ScriptedServer],
) -> None:
    server = start(serve, [RUN_STARTED, STALL])
    async with AsyncNoukai("nk_test", env="dev", dev_port=server.port, max_retries=0) as client:
        async with client.flow("acme/main/grade-3").events(message="hi") as stream:
            async for event in stream:
                assert isinstance(event, RunStarted)
                break
        assert await asyncio.to_thread(server.closed_by_client.wait, 2)


def live_trace_events(mode: Mode, port: int, *, timeout: float | None = None) -> list[StreamEvent]:
    options = {"env": "dev", "dev_port": port, "max_retries": 0}
    if mode == "sync":
        with Noukai("nk_test", **options) as client:  # type: ignore[arg-type]
            run = client.flow("acme/main/grade-3").run("exec-1")
            with run.live_trace(timeout=timeout) as stream:
                return list(stream)

    async def collect_async() -> list[StreamEvent]:
        async with AsyncNoukai("nk_test", **options) as client:  # type: ignore[arg-type]
            run = client.flow("acme/main/grade-3").run("exec-1")
            async with run.live_trace(timeout=timeout) as stream:
                return [event async for event in stream]

    return asyncio.run(collect_async())


@pytest.mark.parametrize("mode", MODES)
def test_a_stalled_live_trace_times_out_after_the_per_call_timeout(
    serve: list[ScriptedServer], mode: Mode
) -> None:
    server = start(serve, [RUN_STARTED, STALL])
    began = time.monotonic()
    with pytest.raises(APITimeoutError):
        live_trace_events(mode, server.port, timeout=0.3)
    assert time.monotonic() - began < 3


@pytest.mark.parametrize("mode", MODES)
def test_a_live_trace_cut_mid_event_is_a_connection_error(
    serve: list[ScriptedServer], mode: Mode
) -> None:
    server = start(
        serve,
        [RUN_STARTED, b'event: step_completed\ndata: {"stepId":'],
        head=b"content-length: 4000\r\n",
    )
    with pytest.raises(APIConnectionError):
        live_trace_events(mode, server.port)


@pytest.mark.parametrize("mode", MODES)
def test_a_live_trace_yields_every_event_until_the_run_finishes(
    serve: list[ScriptedServer], mode: Mode
) -> None:
    body = RUN_STARTED + sse(StepCompleted, step_id="s-1") + b": heartbeat\n\n"
    body += sse(FlowCompleted, status="completed", execution_id="exec-1")
    server = start(serve, [body], head=b"connection: close\r\n")
    events = live_trace_events(mode, server.port)
    assert [event.type for event in events] == ["run_started", "step_completed", "flow_completed"]


@pytest.mark.parametrize("mode", MODES)
def test_a_live_trace_that_ends_before_the_run_finishes_is_interrupted(
    serve: list[ScriptedServer], mode: Mode
) -> None:
    body = RUN_STARTED + sse(StepCompleted, step_id="s-1")
    server = start(serve, [body], head=b"connection: close\r\n")
    with pytest.raises(StreamInterruptedError, match="exec-1") as caught:
        live_trace_events(mode, server.port)
    assert caught.value.execution_id == "exec-1"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (b"text/html; charset=utf-8", b"<html><body>Sign in to the hotel Wi-Fi</body></html>"),
        (b"application/json", b'{"status": "completed", "result": "hi"}'),
    ],
)
def test_a_live_trace_answered_with_something_else_than_an_event_stream_is_refused(
    serve: list[ScriptedServer], mode: Mode, content_type: bytes, body: bytes
) -> None:
    server = ScriptedServer(head=b"connection: close\r\n", parts=[body], content_type=content_type)
    server.start()
    serve.append(server)
    with pytest.raises(APIResponseValidationError, match="not text/event-stream") as caught:
        live_trace_events(mode, server.port)
    assert caught.value.raw_body == body


@pytest.mark.parametrize("mode", MODES)
def test_a_step_stream_answered_with_html_is_refused_too(
    serve: list[ScriptedServer], mode: Mode
) -> None:
    server = ScriptedServer(
        head=b"connection: close\r\n", parts=[b"<html>portal</html>"], content_type=b"text/html"
    )
    server.start()
    serve.append(server)
    with pytest.raises(APIResponseValidationError, match="event stream"):
        collect(mode, server.port)


def test_breaking_out_of_a_sync_for_loop_closes_the_connection(
    serve: list[ScriptedServer],
) -> None:
    server = start(serve, [RUN_STARTED, STALL])
    with Noukai("nk_test", env="dev", dev_port=server.port, max_retries=0) as client:
        for event in client.flow("acme/main/grade-3").events(message="hi"):
            assert isinstance(event, RunStarted)
            break
        assert server.closed_by_client.wait(2)


async def test_breaking_out_of_an_async_for_loop_closes_the_connection_soon(
    serve: list[ScriptedServer],
) -> None:
    server = start(serve, [RUN_STARTED, STALL])
    async with AsyncNoukai("nk_test", env="dev", dev_port=server.port, max_retries=0) as client:
        async for event in client.flow("acme/main/grade-3").events(message="hi"):
            assert isinstance(event, RunStarted)
            break
        for _ in range(20):
            await asyncio.sleep(0.01)
        assert await asyncio.to_thread(server.closed_by_client.wait, 2)
