"""``flow.map()`` against a hand-written ``asyncio.gather`` + ``Semaphore`` over the same client.

Starts the dev server in a separate process (a key allowed 1,000 requests in flight, 5 ms per
step) and, for concurrency 1, 8 and 50 and both modes (``execute`` and ``jobs``), runs the same
inputs through ``AsyncFlow.map`` and through the loop a user would write by hand, alternating the
two over several rounds. Prints wall time per batch (best round) and the ratio map / hand-written;
the budget is 1.05x. Not a pass/fail test.

Run: ``python benchmarks/bench_map.py [--items 200] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from noukai_sdk import AsyncNoukai
from noukai_sdk.devserver.process import DevServerProcess

KEY = "nk_bench_map"
KEYS_YAML = f"""keys:
  {KEY}:
    projects: ["*"]
    credits_usd: "1000000"
    max_concurrency: 1000
    requests_per_minute: 10000000
"""
FLOW = "demo/examples/hello-world"


async def by_hand(flow: Any, messages: list[str], concurrency: int, mode: str) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(message: str) -> Any:
        async with gate:
            if mode == "jobs":
                job = await flow.execute_async(message)
                return await job.wait(poll_interval=0.02)
            return await flow.execute(message)

    # Failures (a keep-alive connection the server closed) are counted by neither side.
    await asyncio.gather(*(one(m) for m in messages), return_exceptions=True)


async def with_map(flow: Any, messages: list[str], concurrency: int, mode: str) -> None:
    extra = {"poll_interval": 0.02} if mode == "jobs" else {}
    await flow.map(messages, concurrency=concurrency, mode=mode, **extra)


async def best_of(
    rounds: int, run: Callable[[], Awaitable[None]], other: Callable[[], Awaitable[None]]
) -> tuple[float, float]:
    """Best wall time of ``run`` and of ``other``, measured alternately."""
    best_run = best_other = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        await run()
        best_run = min(best_run, time.perf_counter() - began)
        began = time.perf_counter()
        await other()
        best_other = min(best_other, time.perf_counter() - began)
    return best_run, best_other


async def measure(port: int, items: int, rounds: int) -> list[tuple[str, int, float, float]]:
    rows: list[tuple[str, int, float, float]] = []
    async with AsyncNoukai(KEY, env="dev", dev_port=port, max_concurrency=100) as client:
        flow = client.flow(FLOW)
        messages = [f"item {i}" for i in range(items)]
        await by_hand(flow, messages[:10], 5, "execute")  # warm the pool and the server
        for mode in ("execute", "jobs"):
            for concurrency in (1, 8, 50):
                count = items if concurrency > 1 else max(20, items // 10)
                chosen = messages[:count]
                mapped, hand = await best_of(
                    rounds,
                    lambda c=concurrency, m=mode, s=chosen: with_map(flow, s, c, m),
                    lambda c=concurrency, m=mode, s=chosen: by_hand(flow, s, c, m),
                )
                rows.append((mode, concurrency, mapped, hand))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="noukai-bench-map-") as workdir:
        keys = Path(workdir) / "keys.yaml"
        keys.write_text(KEYS_YAML)
        with DevServerProcess(db=":memory:", keys_file=keys, latency_ms=5) as server:
            rows = asyncio.run(measure(server.port, args.items, args.rounds))
    print("| mode    | concurrency | map (s) | gather+Semaphore (s) | ratio |")
    print("| ------- | ----------- | ------- | -------------------- | ----- |")
    for mode, concurrency, mapped, hand in rows:
        print(
            f"| {mode:<7} | {concurrency:>11} | {mapped:>7.3f} | {hand:>20.3f} | {mapped / hand:.2f}x |"
        )


if __name__ == "__main__":
    main()
