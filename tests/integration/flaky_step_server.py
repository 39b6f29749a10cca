"""A small scripted ``/step`` server over real TCP that drops connections on purpose.

It runs a fixed two-step flow: each ``POST …/step`` streams, as chunked SSE, the events of the
run from the requested ``stepIndex`` on (the step at the cursor runs again, as on the service).
The first ``drops`` streams are cut after ``cut_after`` events by aborting the socket in the
middle of the chunked body, which the client sees as a broken connection, not as an end.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from loopback_serving import serving

EXECUTION_ID = "exec-flaky"
STEP_PATH = "/api/v1/seq/acme/main/flaky/step"


def _frame(event_type: str, **fields: Any) -> bytes:
    return f"event: {event_type}\ndata: {json.dumps(fields)}\n\n".encode()


_STEPS = [
    [
        _frame("step_started", stepId="draft", stepIndex=0),
        _frame("step_input", stepId="draft", inputData={"message": "hi"}),
        _frame("step_output", stepId="draft", outputData={"delta": "Once "}),
        _frame("step_output", stepId="draft", outputData={"delta": "upon "}),
        _frame("step_completed", stepId="draft", stepIndex=0, output="Once upon "),
    ],
    [
        _frame("step_started", stepId="finish", stepIndex=1),
        _frame("step_output", stepId="finish", outputData={"delta": "a time."}),
        _frame(
            "step_completed",
            stepId="finish",
            stepIndex=1,
            output="a time.",
            tokens={"prompt": 2, "completion": 3, "total": 5},
        ),
    ],
]


def events_from(step_index: int) -> list[bytes]:
    """The SSE frames of a ``/step`` call at ``step_index``."""
    frames = [_frame("run_started", runId="r", executionId=EXECUTION_ID, flowId="f", stepCount=2)]
    for step in _STEPS[step_index:]:
        frames += step
    return [*frames, _frame("flow_completed", executionId=EXECUTION_ID, result="a time.")]


ALL_EVENTS = events_from(0)


class FlakyStepServer:
    """Serves the scripted flow on a loopback port; ``requests`` keeps every ``/step`` body."""

    def __init__(self, *, cut_after: int, drops: int = 1) -> None:
        self.cut_after = cut_after
        self.drops = drops
        self.requests: list[dict[str, Any]] = []
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            length = int({k.lower(): v for k, v in headers.items()}.get("content-length", "0"))
            body = json.loads(await reader.readexactly(length))
        except (asyncio.IncompleteReadError, ValueError):
            writer.close()
            return
        if lines[0].split(" ")[1] != STEP_PATH:
            writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        self.requests.append(body)
        frames = events_from(body["stepIndex"])
        cut = len(self.requests) <= self.drops
        if cut:
            frames = frames[: self.cut_after]
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        )
        for frame in frames:
            writer.write(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
            await writer.drain()
        if cut:
            writer.transport.abort()  # mid-body: no final chunk, the connection just breaks
            return
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        writer.close()

    @contextmanager
    def running(self) -> Iterator[FlakyStepServer]:
        """Serve on a background thread's event loop until the block ends."""
        with serving(self._handle) as port:
            self.port = port
            yield self
