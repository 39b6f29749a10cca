"""Dev-server throughput on this machine: hello-world execute and a 1,000-event step stream.

Starts ``noukai dev-server --port 0 --latency 0 --db :memory:`` as a subprocess and measures, over
real TCP with one keep-alive httpx client:

* sequential ``POST …/hello-world/execute`` requests per second (and with 8 concurrent clients);
* one ``POST …/streaming/step`` with ``runRemaining`` producing exactly 1,000 SSE events, read and
  split into frames: events per second and time per stream.

Run: ``python benchmarks/bench_devserver.py [--requests 500] [--streams 20]``. Prints a small
table; not a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from noukai_sdk.devserver.process import DevServerProcess

API_KEY = "nk_dev_local"
HEADERS = {"Authorization": f"Bearer {API_KEY}", "X-Noukai-API-Version": "2026-05-31"}
EXECUTE = "seq/demo/examples/hello-world/execute"
STEP = "seq/demo/examples/streaming/step"
EXECUTE_BODY = {
    "message": "hi",
    "parameters": {},
    "iterationsUsed": 0,
    "accumulatedOutputs": {},
    "trace": False,
}
# run_started, step_started, step_input, <deltas>, step_completed, flow_completed
STREAM_EVENTS = 1000
STREAM_BODY = {
    "stepIndex": 0,
    "accumulatedOutputs": {},
    "message": " ".join(["word"] * (STREAM_EVENTS - 5)),
    "parameters": {},
    "inputOverrides": {},
    "runRemaining": True,
    "iterationsUsed": 0,
    "trace": False,
}


@contextmanager
def dev_server() -> Iterator[str]:
    with DevServerProcess(db=":memory:", latency_ms=0) as server:
        yield server.base_url + "/"


def bench_execute_sequential(base_url: str, requests: int) -> float:
    with httpx.Client(base_url=base_url, headers=HEADERS) as client:
        for _ in range(20):
            client.post(EXECUTE, json=EXECUTE_BODY).raise_for_status()
        started = time.perf_counter()
        for _ in range(requests):
            client.post(EXECUTE, json=EXECUTE_BODY).raise_for_status()
        return requests / (time.perf_counter() - started)


async def bench_execute_concurrent(base_url: str, requests: int, concurrency: int) -> float:
    async with httpx.AsyncClient(base_url=base_url, headers=HEADERS) as client:

        async def worker(count: int) -> None:
            for _ in range(count):
                (await client.post(EXECUTE, json=EXECUTE_BODY)).raise_for_status()

        await worker(10)
        started = time.perf_counter()
        await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
        return (requests // concurrency * concurrency) / (time.perf_counter() - started)


def bench_stream(base_url: str, streams: int) -> list[float]:
    durations = []
    with httpx.Client(base_url=base_url, headers=HEADERS, timeout=60) as client:
        for _ in range(streams + 2):
            started = time.perf_counter()
            with client.stream("POST", STEP, json=STREAM_BODY) as response:
                response.raise_for_status()
                buffer, frames = b"", 0
                for chunk in response.iter_bytes():
                    buffer += chunk
                    *complete, buffer = buffer.split(b"\n\n")
                    frames += len(complete)
            if frames != STREAM_EVENTS:
                raise SystemExit(f"expected {STREAM_EVENTS} events, got {frames}")
            durations.append(time.perf_counter() - started)
    return durations[2:]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--streams", type=int, default=20)
    args = parser.parse_args()
    with dev_server() as base_url:
        sequential = bench_execute_sequential(base_url, args.requests)
        concurrent = asyncio.run(bench_execute_concurrent(base_url, args.requests, 8))
        durations = bench_stream(base_url, args.streams)
    median = statistics.median(durations)
    print(f"dev server, latency 0, :memory: database, Python {sys.version.split()[0]}")
    print(
        f"hello-world execute, 1 client (keep-alive): {sequential:8.0f} req/s ({1000 / sequential:.2f} ms each)"
    )
    print(f"hello-world execute, 8 concurrent clients: {concurrent:8.0f} req/s")
    print(
        f"1,000-event /step stream (runRemaining):    {STREAM_EVENTS / median:8.0f} events/s "
        f"({median * 1000:.1f} ms per stream, median of {len(durations)})"
    )


if __name__ == "__main__":
    main()
