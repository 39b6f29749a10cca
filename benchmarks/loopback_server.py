"""A minimal HTTP/1.1 server for the benchmarks, run as its own process on 127.0.0.1.

    python benchmarks/loopback_server.py [--events 20000]

Prints ``PORT <n>`` once listening, then serves until stdin closes (the benchmark process owns it)
or it is killed. Every request is answered from bytes built at start-up, so the server's cost is
small and identical for every contender:

- a path ending in ``/execute``: a completed execute result (JSON, ``Content-Length``); under a
  ``/slow/`` flow it is answered after 50 ms, as a real run takes time, so concurrent callers do
  hold that many connections at once;
- a path ending in ``/step``: a ``text/event-stream`` run of ``--events`` events, one HTTP chunk
  per event as an ASGI server writes them (``Transfer-Encoding: chunked``);
- ``/_connections``: the number of TCP connections accepted so far, as plain text (the benchmark
  reports how many connections each contender opened);
- anything else: ``404``.

Connections are kept alive, so a pooled client reuses them as it would against the real API.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

EXECUTE_RESULT = json.dumps(
    {
        "status": "completed",
        "result": {"answer": "x" * 200, "items": list(range(20))},
        "flowId": "f-bench",
        "blockCount": 3,
        "executionId": "exec-bench",
    }
).encode()


def _frame(event: str, payload: dict[str, object]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(payload, separators=(',', ':'))}\n\n".encode()


def step_events(count: int) -> list[bytes]:
    """A realistic run: started/completed pairs with tokens and costs, then the completion."""
    started = _frame(
        "step_started",
        {"eventType": "step_started", "stepId": "summarize", "name": "Summarize", "stepIndex": 0},
    )
    completed = _frame(
        "step_completed",
        {
            "eventType": "step_completed",
            "stepId": "summarize",
            "name": "Summarize",
            "output": {"summary": "The quick brown fox jumps over the lazy dog."},
            "durationMs": 1240,
            "tokens": {"prompt": 100, "completion": 50, "total": 150},
            "costUsd": "0.000150",
            "stepIndex": 0,
        },
    )
    run = {"runId": "r-1", "executionId": "e-1"}
    return [
        _frame("run_started", {"eventType": "run_started", **run, "stepCount": count}),
        *[started, completed] * ((count - 2) // 2),
        _frame("flow_completed", {"eventType": "flow_completed", **run, "result": "done"}),
    ]


def _chunked(frames: list[bytes]) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(frame), frame) for frame in frames) + b"0\r\n\r\n"


class Answers:
    def __init__(self, events: int) -> None:
        self.execute = (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(EXECUTE_RESULT), EXECUTE_RESULT)
        )
        self.step_head = (
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        # Written in slices of about 64 KiB, as an ASGI server's writes reach the socket.
        body = _chunked(step_events(events))
        self.step_body = [body[i : i + 65536] for i in range(0, len(body), 65536)]
        self.not_found = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
        self.connections = 0

    def connection_count(self) -> bytes:
        count = b"%d" % self.connections
        return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(count), count)


async def _serve_connection(
    answers: Answers, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    answers.connections += 1
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            length = 0
            for line in header_lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            path = request_line.split(" ")[1].split("?")[0]
            if path.endswith("/execute"):
                if "/slow/" in path:
                    await asyncio.sleep(0.05)
                writer.write(answers.execute)
            elif path.endswith("/step"):
                writer.write(answers.step_head)
                for piece in answers.step_body:
                    writer.write(piece)
                    await writer.drain()
            elif path == "/_connections":
                writer.write(answers.connection_count())
            else:
                writer.write(answers.not_found)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def _main(events: int) -> None:
    answers = Answers(events)
    server = await asyncio.start_server(
        lambda r, w: _serve_connection(answers, r, w), "127.0.0.1", 0, backlog=1024
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    async with server:
        await stdin_closed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="loopback server for the benchmarks")
    parser.add_argument("--events", type=int, default=20_000)
    asyncio.run(_main(parser.parse_args().events))
