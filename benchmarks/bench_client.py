"""Client overhead against its floor: import time and the CPU cost of one ``execute()``.

    python benchmarks/bench_client.py [--rounds 15] [--calls 2000]

Ratios are measured side by side in one run (interleaved rounds, medians), so a noisy shared
machine shifts both sides alike. The floors (DESIGN §5):

- import: ``import noukai_sdk`` against ``import httpx, pydantic`` in a fresh interpreter (budget 1.35x).
  Both sides run with bytecode caches, as after ``pip install`` (which compiles ``.pyc`` files):
  the interpreters get a private ``PYTHONPYCACHEPREFIX`` that a warm-up run fills. A second row
  shows the SDK compiled from source on every import while httpx/pydantic use their installed
  ``.pyc`` (what a checkout with ``PYTHONDONTWRITEBYTECODE=1`` sees); it is informational only;
- execute: client CPU of ``flow.execute()`` against a raw ``httpx`` POST + ``.json()`` of the same
  request, both over an in-memory ``httpx.MockTransport`` so only client-side work is measured
  (budget 1.05x sync and async).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import httpx
from loopback_server import EXECUTE_RESULT

from noukai_sdk import AsyncNoukai, Noukai

API_KEY = "nk_bench_key"
URL = "http://localhost:8080/api/v1/seq/acme/bench/hello/execute"
RESULT = EXECUTE_RESULT


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=RESULT, headers={"content-type": "application/json"})


def import_seconds(statement: str, env: dict[str, str] | None = None) -> float:
    """Wall time of a fresh interpreter running ``statement``."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True, env=env)
    return time.perf_counter() - start


def bytecode_cached_env(cache_dir: str) -> dict[str, str]:
    """An environment whose interpreters read and write ``.pyc`` files under ``cache_dir``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


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


def bench_imports(rounds: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Median import times of ours and the floor, each minus an empty interpreter's start-up."""
    statements = ("pass", "import httpx, pydantic", "import noukai_sdk")
    for statement in statements:  # warm-up: fills the bytecode cache when ``env`` has one
        import_seconds(statement, env)
    empty: list[float] = []
    floor: list[float] = []
    ours: list[float] = []
    for _ in range(rounds):
        for times, statement in zip((empty, floor, ours), statements, strict=True):
            times.append(import_seconds(statement, env))
    base = statistics.median(empty)
    return statistics.median(ours) - base, statistics.median(floor) - base


def bench_sync_execute(rounds: int, calls: int) -> tuple[float, float]:
    transport = httpx.MockTransport(_answer)
    raw = httpx.Client(transport=transport, headers={"Authorization": f"Bearer {API_KEY}"})
    client = Noukai(API_KEY, env="dev", http_client=httpx.Client(transport=transport))
    flow = client.flow("acme/bench/hello")
    body: dict[str, Any] = {
        "message": "hi",
        "parameters": {},
        "iterationsUsed": 0,
        "accumulatedOutputs": {},
    }

    def floor_call() -> object:
        return raw.post(URL, json=body).json()

    def our_call() -> object:
        return flow.execute("hi")

    ours: list[float] = []
    floor: list[float] = []
    for _ in range(rounds):
        floor.append(cpu_per_call(floor_call, calls))
        ours.append(cpu_per_call(our_call, calls))
    return statistics.median(ours), statistics.median(floor)


def bench_async_execute(rounds: int, calls: int) -> tuple[float, float]:
    transport = httpx.MockTransport(_answer)
    raw = httpx.AsyncClient(transport=transport, headers={"Authorization": f"Bearer {API_KEY}"})
    client = AsyncNoukai(API_KEY, env="dev", http_client=httpx.AsyncClient(transport=transport))
    flow = client.flow("acme/bench/hello")
    body: dict[str, Any] = {
        "message": "hi",
        "parameters": {},
        "iterationsUsed": 0,
        "accumulatedOutputs": {},
    }

    async def floor_call() -> object:
        return (await raw.post(URL, json=body)).json()

    async def our_call() -> object:
        return await flow.execute("hi")

    ours: list[float] = []
    floor: list[float] = []
    for _ in range(rounds):
        floor.append(async_cpu_per_call(floor_call, calls))
        ours.append(async_cpu_per_call(our_call, calls))
    return statistics.median(ours), statistics.median(floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=1500)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="noukai-bench-pyc-") as cache_dir:
        cached = bench_imports(args.rounds, bytecode_cached_env(cache_dir))
    rows = [
        ("import noukai_sdk vs httpx+pydantic", *cached, 1.35, "ms", 1e3),
        ("  (SDK compiled from source each time)", *bench_imports(args.rounds), None, "ms", 1e3),
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
        limit = f"{budget:>6.2f}x" if budget is not None else f"{'-':>7}"
        print(
            f"{name:40} {ours * scale:>8.1f}{unit} {floor * scale:>8.1f}{unit} "
            f"{ratio:>6.2f}x {limit}"
        )


if __name__ == "__main__":
    main()
