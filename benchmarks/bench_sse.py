"""SSE throughput: our decoder + typed validation against a naive floor and against httpx-sse.

Run ``python benchmarks/bench_sse.py`` (``--quick`` for fewer rounds). Every contender gets the
same bytes in the same chunks; rounds are interleaved and the table shows medians. Not a
pass/fail test: DESIGN §5 states the budget (parse <= 0.9x the floor, ``events()`` end to end
<= 1.1x, a 4 MiB event linear).

Contenders:
- ``floor``: the naive parser (split the buffer on blank lines, pick ``event:``/``data:`` lines,
  ``json.loads`` the data) -- untyped dicts, no CR handling, O(n^2) on large events.
- ``httpx-sse``: httpx-sse's ``EventSource.iter_sse()`` plus ``json.loads`` on each event.
- ``noukai``: ``SSEDecoder`` + ``parse_event`` (typed pydantic events validated from bytes).
- ``*-e2e``: the whole path from an httpx response to events: the floor over
  ``Response.iter_bytes()`` vs ``EventStream`` running the step protocol over our transport.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import httpx
from httpx_sse import EventSource

from noukai_sdk._core.events import (
    FlowCompleted,
    RunStarted,
    StepCompleted,
    StepStarted,
    StreamEvent,
    parse_event,
)
from noukai_sdk._core.paths import FlowAddress
from noukai_sdk._core.requesting import RequestContext
from noukai_sdk._core.sse import SSEDecoder
from noukai_sdk._core.step_protocol import StepCall, step_protocol
from noukai_sdk._streams import EventStream
from noukai_sdk._transport import SyncTransport


def frame(cls: type[Any], **fields: Any) -> bytes:
    payload = cls.model_validate(fields).to_wire()
    return f"event: {cls.type}\ndata: {json.dumps(payload)}\n\n".encode()


def small_events_body(count: int) -> bytes:
    """A realistic run: started/completed pairs with token counts and costs, then completion."""
    step = frame(StepStarted, step_id="summarize", name="Summarize", step_index=0) + frame(
        StepCompleted,
        step_id="summarize",
        name="Summarize",
        output={"summary": "The quick brown fox jumps over the lazy dog."},
        duration_ms=1240,
        tokens={"prompt": 100, "completion": 50, "total": 150},
        cost_usd="0.000150",
        step_index=0,
    )
    return (
        frame(RunStarted, run_id="r-1", execution_id="e-1", step_count=count)
        + step * (count // 2)
        + frame(FlowCompleted, run_id="r-1", execution_id="e-1", result="done")
    )


def large_event_body(size: int) -> bytes:
    text = "x" * size
    return frame(StepCompleted, step_id="big", output=text) + frame(FlowCompleted, result="done")


def chunked(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


# --- contenders ------------------------------------------------------------------------------------


class Floor:
    """The floor parser, fed one chunk at a time (so a network stream can drive it too)."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, chunk: bytes) -> int:
        """Parse the events ``chunk`` completes; returns how many."""
        count = 0
        buffer = self.buffer + chunk
        while (end := buffer.find(b"\n\n")) >= 0:
            block, buffer = buffer[:end], buffer[end + 2 :]
            name, data = "", list[bytes]()
            for line in block.split(b"\n"):
                if line.startswith(b"data:"):
                    data.append(line[5:].lstrip())
                elif line.startswith(b"event:"):
                    name = line[6:].strip().decode()
            if data:
                parsed: tuple[str, Any] = (name, json.loads(b"\n".join(data)))
                count += len(parsed) // 2
        self.buffer = buffer
        return count


def floor(chunks: Iterable[bytes]) -> int:
    parser = Floor()
    return sum(parser.feed(chunk) for chunk in chunks)


def noukai(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    count = 0
    for chunk in chunks:
        for sse in decoder.feed(chunk):
            if parse_event(sse.event, sse.data) is not None:
                count += 1
    for sse in decoder.end():
        if parse_event(sse.event, sse.data) is not None:
            count += 1
    return count


class _Chunks(httpx.SyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)


_SSE_HEADERS = {"content-type": "text/event-stream"}


def httpx_sse(chunks: list[bytes]) -> int:
    response = httpx.Response(200, headers=_SSE_HEADERS, stream=_Chunks(chunks))
    count = 0
    for sse in EventSource(response).iter_sse():
        json.loads(sse.data)
        count += 1
    return count


def _client(chunks: list[bytes]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=_SSE_HEADERS, stream=_Chunks(chunks))

    return httpx.Client(transport=httpx.MockTransport(handle))


def floor_e2e(chunks: list[bytes]) -> int:
    with (
        _client(chunks) as client,
        client.stream("POST", "https://bench.test/step", json={"stepIndex": 0}) as response,
    ):
        return floor(list(response.iter_bytes()))


def noukai_e2e(chunks: list[bytes]) -> int:
    transport = SyncTransport(
        base_url="https://bench.test", api_key="nk_bench", timeout=30.0, http_client=_client(chunks)
    )
    call = StepCall(address=FlowAddress("o", "p", "s"), version=None, run_remaining=True)
    stream: EventStream[StreamEvent] = EventStream(step_protocol(call, RequestContext()), transport)
    with stream:
        count = sum(1 for _ in stream)
    transport.close()
    return count


# --- measurement -----------------------------------------------------------------------------------


def measure(
    contenders: Mapping[str, Callable[[list[bytes]], int]], chunks: list[bytes], rounds: int
) -> dict[str, float]:
    """Median seconds per contender over ``rounds`` interleaved runs."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for run in contenders.values():
        run(chunks)  # warm up: model schemas, caches
    for _ in range(rounds):
        for name, run in contenders.items():
            gc.collect()
            start = time.perf_counter()
            run(chunks)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def report(title: str, results: dict[str, float], *, events: int, size: int) -> None:
    base = results["floor"] if "floor" in results else results["floor-e2e"]
    print(f"\n{title}  ({events} events, {size / 1e6:.1f} MB)")
    print(f"{'contender':<14}{'ms':>10}{'events/s':>14}{'MB/s':>10}{'x floor':>10}")
    for name, seconds in results.items():
        print(
            f"{name:<14}{seconds * 1e3:>10.2f}{events / seconds:>14,.0f}"
            f"{size / 1e6 / seconds:>10.1f}{seconds / base:>10.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="SSE throughput benchmark")
    parser.add_argument("--quick", action="store_true", help="fewer events and rounds")
    args = parser.parse_args()
    rounds = 5 if args.quick else 15
    count = 4_000 if args.quick else 20_000

    small = small_events_body(count)
    chunks = chunked(small, 16 * 1024)
    parse_contenders = {"floor": floor, "httpx-sse": httpx_sse, "noukai": noukai}
    events = noukai(chunks)
    report(
        "many small events, 16 KiB chunks",
        measure(parse_contenders, chunks, rounds),
        events=events,
        size=len(small),
    )
    report(
        "end to end from an httpx response, 16 KiB chunks",
        measure({"floor-e2e": floor_e2e, "noukai-e2e": noukai_e2e}, chunks, rounds),
        events=events,
        size=len(small),
    )

    big = large_event_body(4 * 1024 * 1024)
    big_rounds = max(3, rounds // 3)
    one_chunk = measure(parse_contenders, chunked(big, len(big)), big_rounds)
    report("one 4 MiB event, one chunk", one_chunk, events=2, size=len(big))
    # The floor is quadratic in 1 KiB chunks (seconds per run), so it runs once, and the ratio
    # column compares against the floor's one-chunk time: linear means close to 1.
    small_chunks = chunked(big, 1024)
    in_kib = measure({"httpx-sse": httpx_sse, "noukai": noukai}, small_chunks, big_rounds)
    start = time.perf_counter()
    floor(small_chunks)
    report(
        "one 4 MiB event, 1 KiB chunks (x = vs the floor's one-chunk time)",
        {"floor": one_chunk["floor"], "floor-1KiB": time.perf_counter() - start, **in_kib},
        events=2,
        size=len(big),
    )
    print()
    print(memory_report(small))


def memory_report(body: bytes) -> str:
    """Peak memory while decoding a stream once vs ten times as long: flat means no growth."""
    import tracemalloc

    chunks = chunked(body, 16 * 1024)

    def peak(repeats: int) -> int:
        decoder = SSEDecoder()
        tracemalloc.start()
        for _ in range(repeats):
            for chunk in chunks:
                for sse in decoder.feed(chunk):
                    parse_event(sse.event, sse.data)
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    once, ten = peak(1), peak(10)
    return f"memory: peak {once / 1024:.0f} KiB for one pass, {ten / 1024:.0f} KiB for ten passes"


if __name__ == "__main__":
    main()
