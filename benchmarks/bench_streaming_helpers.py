"""``stream_text()`` and ``stream_object()`` against their floors, side by side in one run.

Rows (median CPU time of the client process over interleaved rounds):

- ``events()`` vs ``stream_text()``: the same text stream (5,000 deltas) served by a loopback
  HTTP server in a separate process, iterated end to end. Budget: ``stream_text`` ≤ 1.05x.
- one ``model_validate_json`` of a ~1 MB object vs ``stream_object``'s own work on the same
  object arriving as 10,000 text deltas (snapshots and the strict final validation, fed the
  parsed events), and, for information, ``stream_object()`` end to end over the loopback server
  next to ``events()`` on that stream. Budget: the helper's work ≤ 10x one validation.

    .venv/bin/python benchmarks/bench_streaming_helpers.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TEXT_DELTAS = 5_000
OBJECT_DELTAS = 10_000


def frame(event_type: str, **fields: Any) -> bytes:
    return f"event: {event_type}\ndata: {json.dumps(fields)}\n\n".encode()


def text_stream_body(pieces: list[str], result: Any) -> bytes:
    text = "".join(pieces)
    frames = [frame("run_started", executionId="e", flowId="f", stepCount=1)]
    frames.append(frame("step_started", stepId="s", stepIndex=0))
    frames += [frame("step_output", stepId="s", outputData={"delta": p}) for p in pieces]
    frames.append(frame("step_completed", stepId="s", stepIndex=0, output=text))
    frames.append(frame("flow_completed", executionId="e", result=result))
    return b"".join(frames)


def big_object() -> dict[str, Any]:
    items = [
        {"id": i, "name": f"item number {i}", "tags": ["red", "green"], "price": i * 0.25}
        for i in range(9_500)
    ]
    return {"title": "catalogue", "items": items}


def pieces_of(text: str, count: int) -> list[str]:
    size = -(-len(text) // count)
    return [text[i : i + size] for i in range(0, len(text), size)]


def bodies() -> dict[str, bytes]:
    words = [f"word{i % 97} " for i in range(TEXT_DELTAS)]
    object_text = json.dumps(big_object())
    return {
        "/api/v1/seq/bench/helpers/text/step": text_stream_body(words, "".join(words)),
        "/api/v1/seq/bench/helpers/object/step": text_stream_body(
            pieces_of(object_text, OBJECT_DELTAS), object_text
        ),
    }


# --- the loopback server (a separate process) ---------------------------------------------------


def serve() -> None:
    payloads = bodies()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            body = payloads[self.path]
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


# --- contenders -------------------------------------------------------------------------------


def cpu(run: Callable[[], object]) -> float:
    gc.collect()  # each contender starts without the garbage of the one before
    start = time.process_time()
    run()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    from pydantic import BaseModel

    from noukai_sdk import Noukai
    from noukai_sdk._core.events import parse_event
    from noukai_sdk._core.object_output import validate_streamed_object
    from noukai_sdk._core.text_streams import ObjectRun

    class Item(BaseModel):
        id: int
        name: str
        tags: list[str]
        price: float

    class Catalogue(BaseModel):
        title: str
        items: list[Item]

    process = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        client = Noukai("nk_bench", env="dev", dev_port=port, timeout=60)
        text_flow = client.flow("bench/helpers/text")
        object_flow = client.flow("bench/helpers/object")
        object_text = json.dumps(big_object())
        object_events = [
            parse_event(
                "step_output", json.dumps({"stepId": "s", "outputData": {"delta": p}}).encode()
            )
            for p in pieces_of(object_text, OBJECT_DELTAS)
        ]
        completed = parse_event(
            "step_completed", json.dumps({"stepId": "s", "output": object_text}).encode()
        )
        flow_done = parse_event("flow_completed", json.dumps({"executionId": "e"}).encode())

        def events_text() -> None:
            with text_flow.events("x", run_remaining=True) as stream:
                for _ in stream:
                    pass

        def stream_text() -> None:
            with text_flow.stream_text("x") as stream:
                for _ in stream:
                    pass

        def validate_once() -> None:
            Catalogue.model_validate_json(object_text)

        def object_helper_work() -> None:
            run = ObjectRun(None)
            for event in (*object_events, completed, flow_done):
                run.convert(event)
            is_text, source = run.snapshots.final_source()
            validate_streamed_object(Catalogue, is_text=is_text, source=source, execution_id="e")

        def events_object() -> None:
            with object_flow.events("x", run_remaining=True) as stream:
                for _ in stream:
                    pass

        def stream_object() -> None:
            with object_flow.stream_object(Catalogue, "x") as stream:
                for _ in stream:
                    pass
                stream.final_object()

        contenders = {
            "events() text": events_text,
            "stream_text()": stream_text,
            "model_validate_json 1 MB": validate_once,
            "stream_object work": object_helper_work,
            "events() object": events_object,
            "stream_object()": stream_object,
        }
        for run in contenders.values():  # warm up connections, caches and lazy imports
            run()
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.rounds):
            for name, run in contenders.items():
                times[name].append(cpu(run))
        median = {name: statistics.median(values) for name, values in times.items()}
    finally:
        process.terminate()
        process.wait(10)

    rows = [
        ("events() end to end, 5,000 deltas", "events() text", None, ""),
        ("stream_text() end to end, same stream", "stream_text()", "events() text", "<= 1.05x"),
        ("model_validate_json, ~1 MB object", "model_validate_json 1 MB", None, ""),
        (
            "stream_object work, 10,000 deltas",
            "stream_object work",
            "model_validate_json 1 MB",
            "<= 10x",
        ),
        ("events() end to end, 1 MB in 10,000 deltas", "events() object", None, ""),
        ("stream_object() end to end, same stream", "stream_object()", "events() object", "info"),
    ]
    print(f"{'row':<46} {'median CPU':>12} {'ratio':>8}  budget")
    for label, name, floor, budget in rows:
        ratio = f"{median[name] / median[floor]:.2f}x" if floor else ""
        print(f"{label:<46} {median[name] * 1000:>9.1f} ms {ratio:>8}  {budget}")
    extra = median["stream_object()"] - median["events() object"]
    print(
        f"{'stream_object() minus events(), same stream':<46} {extra * 1000:>9.1f} ms "
        f"{extra / median['model_validate_json 1 MB']:>7.2f}x  <= 10x (of one validation)"
    )


if __name__ == "__main__":
    main()
