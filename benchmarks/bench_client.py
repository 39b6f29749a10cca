"""Client overhead against its floor: import time and the CPU cost of one ``execute()``.

    python benchmarks/bench_client.py [--rounds 15] [--calls 2000]

Ratios are measured side by side in one run (interleaved rounds, medians), so a noisy shared
machine shifts both sides alike. The floors (DESIGN §5):

- import: ``import noukai_sdk`` against ``import httpx, pydantic`` in a fresh interpreter (budget 1.35x);
- execute: client CPU of ``flow.execute()`` against a raw ``httpx`` POST + ``.json()`` of the same
  request, both over an in-memory ``httpx.MockTransport`` so only client-side work is measured
  (budget 1.05x sync and async).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import httpx

from noukai_sdk import AsyncNoukai, Noukai

API_KEY = "nk_bench_key"
URL = "http://localhost:8080/api/v1/seq/acme/bench/hello/execute"
RESULT = json.dumps(
    {
        "status": "completed",
        "result": {"answer": "x" * 200, "items": list(range(20))},
        "flowId": "f-bench",
        "blockCount": 3,
        "executionId": "exec-bench",
    }
).encode()


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=RESULT, headers={"content-type": "application/json"})


def import_seconds(statement: str) -> float:
    """Wall time of a fresh interpreter running ``statement``, minus an empty interpreter."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True)
    return time.perf_counter() - start


def cpu_per_call(fn: Callable[[], object], calls: int) -> float:
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls


def async_cpu_per_call(make: Callable[[], object], calls: int) -> float:
    async def loop() -> float:
        start = time.process_time()
        for _ in range(calls):
            await make()  # type: ignore[misc]
        return (time.process_time() - start) / calls

    return asyncio.run(loop())


def bench_imports(rounds: int) -> tuple[float, float]:
    ours, floor, empty = [], [], []
    for _ in range(rounds):
        empty.append(import_seconds("pass"))
        floor.append(import_seconds("import httpx, pydantic"))
        ours.append(import_seconds("import noukai_sdk"))
    base = statistics.median(empty)
    return statistics.median(ours) - base, statistics.median(floor) - base


def bench_sync_execute(rounds: int, calls: int) -> tuple[float, float]:
    transport = httpx.MockTransport(_answer)
    raw = httpx.Client(transport=transport, headers={"Authorization": f"Bearer {API_KEY}"})
    client = Noukai(API_KEY, env="dev", http_client=httpx.Client(transport=transport))
    flow = client.flow("acme/bench/hello")
    body = {"message": "hi", "parameters": {}, "iterationsUsed": 0, "accumulatedOutputs": {}}

    def floor_call() -> object:
        return raw.post(URL, json=body).json()

    def our_call() -> object:
        return flow.execute("hi")

    ours, floor = [], []
    for _ in range(rounds):
        floor.append(cpu_per_call(floor_call, calls))
        ours.append(cpu_per_call(our_call, calls))
    return statistics.median(ours), statistics.median(floor)


def bench_async_execute(rounds: int, calls: int) -> tuple[float, float]:
    transport = httpx.MockTransport(_answer)
    raw = httpx.AsyncClient(transport=transport, headers={"Authorization": f"Bearer {API_KEY}"})
    client = AsyncNoukai(API_KEY, env="dev", http_client=httpx.AsyncClient(transport=transport))
    flow = client.flow("acme/bench/hello")
    body = {"message": "hi", "parameters": {}, "iterationsUsed": 0, "accumulatedOutputs": {}}

    async def floor_call() -> object:
        return (await raw.post(URL, json=body)).json()

    async def our_call() -> object:
        return await flow.execute("hi")

    ours, floor = [], []
    for _ in range(rounds):
        floor.append(async_cpu_per_call(floor_call, calls))
        ours.append(async_cpu_per_call(our_call, calls))
    return statistics.median(ours), statistics.median(floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=1500)
    args = parser.parse_args()

    rows = [
        ("import noukai_sdk vs httpx+pydantic", *bench_imports(args.rounds), 1.35, "ms", 1e3),
        (
            "sync execute() CPU vs raw httpx",
            *bench_sync_execute(args.rounds, args.calls),
            1.05,
            "us",
            1e6,
        ),
        (
            "async execute() CPU vs raw httpx",
            *bench_async_execute(args.rounds, args.calls),
            1.05,
            "us",
            1e6,
        ),
    ]
    print(f"{'measurement':40} {'ours':>10} {'floor':>10} {'ratio':>7} {'budget':>7}")
    for name, ours, floor, budget, unit, scale in rows:
        ratio = ours / floor if floor else float("inf")
        print(
            f"{name:40} {ours * scale:>8.1f}{unit} {floor * scale:>8.1f}{unit} "
            f"{ratio:>6.2f}x {budget:>6.2f}x"
        )


if __name__ == "__main__":
    main()
