"""Load through one client against the dev server on loopback: does it hold, and does it leak?

Starts ``noukai dev-server`` in a separate process (``:memory:`` database, a key allowed 1,000
requests in flight so the server's own limit is not what is measured) and runs, one after the
other:

* ``execute``: 2,000 ``execute()`` calls of ``hello-world`` at concurrency 100 through one
  ``AsyncNoukai``;
* ``streams``: 200 concurrent ``events(run_remaining=True)`` streams of ``streaming`` through one
  ``AsyncNoukai`` (every stream open at once: each step of that flow takes ``--latency`` ms);
* ``threads``: 16 threads sharing one ``Noukai``, 2,000 ``execute()`` calls in all.

For each it prints throughput, p50/p99 latency and the error count (expected 0), and for the
whole run the client's RSS and open file descriptors before and after (expected back to the
starting count once the clients are closed). Bounded in count and in time (``--deadline``
seconds per phase). Exit status 1 when an error occurred or descriptors were left open.

Run: ``python benchmarks/load.py [--executes 2000] [--concurrency 100] [--streams 200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from noukai_sdk import AsyncNoukai, Noukai
from noukai_sdk.devserver.process import DevServerProcess

LOAD_KEY = "nk_load_test"
KEYS_YAML = f"""keys:
  {LOAD_KEY}:
    projects: ["*"]
    credits_usd: "1000000"
    max_concurrency: 1000
    requests_per_minute: 10000000
"""


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    latencies: list[float] = field(default_factory=lambda: [])
    errors: list[str] = field(default_factory=lambda: [])
    seconds: float = 0.0

    def row(self) -> str:
        done = len(self.latencies)
        rate = done / self.seconds if self.seconds else 0.0
        p50 = statistics.median(self.latencies) * 1000 if self.latencies else float("nan")
        p99 = _percentile(self.latencies, 0.99) * 1000 if self.latencies else float("nan")
        return (
            f"| {self.name:<8} | {done:>6} | {rate:>9.0f}/s | {p50:>8.1f} ms | {p99:>8.1f} ms "
            f"| {len(self.errors):>6} |"
        )


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def client_options(concurrency: int, cls: type[Any]) -> dict[str, Any]:
    """Options for a client under load: a client-wide bound at least the load's concurrency."""
    options: dict[str, Any] = {"env": "dev", "max_retries": 0}
    if "max_concurrency" in inspect.signature(cls.__init__).parameters:
        options["max_concurrency"] = concurrency
    return options


async def timed(phase: Phase, call: Callable[[], Awaitable[object]]) -> None:
    began = time.perf_counter()
    try:
        await call()
    except Exception as exc:  # a load test counts failures instead of stopping at the first
        phase.errors.append(f"{type(exc).__name__}: {exc}")
        return
    phase.latencies.append(time.perf_counter() - began)


async def async_executes(port: int, executes: int, concurrency: int, deadline: float) -> Phase:
    phase = Phase("execute")
    gate = asyncio.Semaphore(concurrency)
    options = client_options(concurrency, AsyncNoukai)
    async with AsyncNoukai(LOAD_KEY, dev_port=port, **options) as client:
        flow = client.flow("demo/examples/hello-world")

        async def one(index: int) -> None:
            async with gate:
                await timed(phase, lambda: flow.execute(f"hello {index}"))

        began = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(executes))), deadline)
        phase.seconds = time.perf_counter() - began
    return phase


async def async_streams(port: int, streams: int, deadline: float) -> Phase:
    phase = Phase("streams")
    options = client_options(streams, AsyncNoukai)
    async with AsyncNoukai(LOAD_KEY, dev_port=port, **options) as client:
        flow = client.flow("demo/examples/streaming")

        async def one(index: int) -> None:
            async def read() -> None:
                async with flow.events(f"stream {index} of the load", run_remaining=True) as s:
                    kinds = [event.type async for event in s]
                if kinds[-1:] != ["flow_completed"]:
                    raise RuntimeError(f"stream {index} ended with {kinds[-1:]}")

            await timed(phase, read)

        began = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(streams))), deadline)
        phase.seconds = time.perf_counter() - began
    return phase


def threaded_executes(port: int, executes: int, threads: int) -> Phase:
    phase = Phase("threads")
    lock = threading.Lock()
    with Noukai(LOAD_KEY, dev_port=port, **client_options(threads, Noukai)) as client:
        flow = client.flow("demo/examples/hello-world")

        def one(index: int) -> None:
            began = time.perf_counter()
            try:
                flow.execute(f"hello {index}")
            except Exception as exc:
                with lock:
                    phase.errors.append(f"{type(exc).__name__}: {exc}")
                return
            with lock:
                phase.latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(one, range(executes)))
        phase.seconds = time.perf_counter() - began
    return phase


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executes", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--latency", type=int, default=20, help="dev-server latency per step, ms")
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds per phase")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="noukai-load-") as workdir:
        keys = Path(workdir) / "keys.yaml"
        keys.write_text(KEYS_YAML)
        server = DevServerProcess(db=":memory:", keys_file=keys, latency_ms=args.latency)
        with server:
            gc.collect()
            fds_before, rss_before = open_fds(), rss_kib()
            phases = [
                asyncio.run(
                    async_executes(server.port, args.executes, args.concurrency, args.deadline)
                ),
                asyncio.run(async_streams(server.port, args.streams, args.deadline)),
                threaded_executes(server.port, args.executes, args.threads),
            ]
            gc.collect()
            fds_after, rss_after = open_fds(), rss_kib()

    print(f"load against the dev server on loopback (latency {args.latency} ms per step)\n")
    print("| phase    |   done |  throughput |         p50 |         p99 | errors |")
    print("| -------- | ------ | ----------- | ----------- | ----------- | ------ |")
    for phase in phases:
        print(phase.row())
    print(f"\nclient RSS: {rss_before / 1024:.1f} MiB before, {rss_after / 1024:.1f} MiB after")
    print(f"open fds:   {fds_before} before, {fds_after} after")
    errors = [error for phase in phases for error in phase.errors]
    for error in sorted(set(errors))[:10]:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors or fds_after > fds_before else 0


if __name__ == "__main__":
    raise SystemExit(main())
