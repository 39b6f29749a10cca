"""``flow.map()`` against a hand-written ``asyncio.gather`` + ``Semaphore`` over the same client.

Starts the dev server in a separate process (a key allowed 1,000 requests in flight, 5 ms per
block, jobs picked up at once) and, for concurrency 1, 8 and 50 and both modes (``execute`` and
``jobs``), runs the same inputs through ``AsyncFlow.map`` and through the loop a user would write
by hand, on one client whose pool is warmed to the largest concurrency first. Each round runs
both, in alternating order (so drift on a shared machine hits both alike). Prints, per case, the
median wall time and the median CPU time of this process (the client's own work; the server runs
elsewhere) and the ratios map / hand-written (the median of the per-round ratios); the budget is
1.05x. Not a pass/fail test.

Run: ``python benchmarks/bench_map.py [--items 400] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
POLL_INTERVAL = 0.02
CONCURRENCIES = (1, 8, 50)


async def by_hand(flow: Any, messages: list[str], concurrency: int, mode: str) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(message: str) -> Any:
        async with gate:
            if mode == "jobs":
                job = await flow.execute_async(message)
                return await job.wait(poll_interval=POLL_INTERVAL)
            return await flow.execute(message)

    # Errors are kept per item, as map() keeps them.
    await asyncio.gather(*(one(m) for m in messages), return_exceptions=True)


async def with_map(flow: Any, messages: list[str], concurrency: int, mode: str) -> None:
    extra = {"poll_interval": POLL_INTERVAL} if mode == "jobs" else {}
    batch = await flow.map(messages, concurrency=concurrency, mode=mode, **extra)
    assert len(batch) == len(messages)


@dataclass
class Timings:
    wall: list[float]
    cpu: list[float]

    def add(self, wall: float, cpu: float) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)


async def timed(run: Callable[[], Awaitable[None]], into: Timings) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    await run()
    into.add(time.perf_counter() - wall, time.process_time() - cpu)


@dataclass(frozen=True)
class Row:
    mode: str
    concurrency: int
    items: int
    mapped: Timings
    hand: Timings


async def compare(
    rounds: int, mapped: Callable[[], Awaitable[None]], hand: Callable[[], Awaitable[None]]
) -> tuple[Timings, Timings]:
    """Both runners, ``rounds`` times each, alternating which goes first."""
    mapped_times, hand_times = Timings([], []), Timings([], [])
    for round_number in range(rounds):
        if round_number % 2 == 0:
            await timed(mapped, mapped_times)
            await timed(hand, hand_times)
        else:
            await timed(hand, hand_times)
            await timed(mapped, mapped_times)
    return mapped_times, hand_times


async def measure(port: int, items: int, rounds: int) -> list[Row]:
    rows: list[Row] = []
    async with AsyncNoukai(KEY, env="dev", dev_port=port, max_concurrency=100) as client:
        flow = client.flow(FLOW)
        messages = [f"item {i}" for i in range(items)]
        for mode in ("execute", "jobs"):
            # Warm the pool to the largest concurrency, the server and both code paths.
            warm = messages[: 2 * max(CONCURRENCIES)]
            await by_hand(flow, warm, max(CONCURRENCIES), mode)
            await with_map(flow, warm, max(CONCURRENCIES), mode)
            for concurrency in CONCURRENCIES:
                count = items if concurrency > 1 else max(50, items // 4)
                chosen = messages[:count]
                mapped, hand = await compare(
                    rounds,
                    lambda c=concurrency, m=mode, s=chosen: with_map(flow, s, c, m),
                    lambda c=concurrency, m=mode, s=chosen: by_hand(flow, s, c, m),
                )
                rows.append(Row(mode, concurrency, count, mapped, hand))
    return rows


def paired_ratio(mapped: list[float], hand: list[float]) -> float:
    """The median of each round's ratio: rounds run back to back, so a slow spell on a shared
    machine hits both runners of a round alike and cancels out of its ratio."""
    return statistics.median(m / h for m, h in zip(mapped, hand, strict=True))


def print_table(rows: list[Row], rounds: int) -> None:
    print(
        f"median of {rounds} rounds; ratio = median of the per-round ratios map / gather; "
        "CPU is this process's (the client's) time"
    )
    print(
        "| mode    | concurrency | items | map wall (s) | gather wall (s) | wall ratio "
        "| map CPU (s) | gather CPU (s) | CPU ratio |"
    )
    print(
        "| ------- | ----------- | ----- | ------------ | --------------- | ---------- "
        "| ----------- | -------------- | --------- |"
    )
    for row in rows:
        map_wall, hand_wall = statistics.median(row.mapped.wall), statistics.median(row.hand.wall)
        map_cpu, hand_cpu = statistics.median(row.mapped.cpu), statistics.median(row.hand.cpu)
        wall_ratio = paired_ratio(row.mapped.wall, row.hand.wall)
        cpu_ratio = paired_ratio(row.mapped.cpu, row.hand.cpu)
        print(
            f"| {row.mode:<7} | {row.concurrency:>11} | {row.items:>5} | {map_wall:>12.3f} "
            f"| {hand_wall:>15.3f} | {wall_ratio:>9.2f}x | {map_cpu:>11.3f} "
            f"| {hand_cpu:>14.3f} | {cpu_ratio:>8.2f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="noukai-bench-map-") as workdir:
        keys = Path(workdir) / "keys.yaml"
        keys.write_text(KEYS_YAML)
        with DevServerProcess(
            db=":memory:", keys_file=keys, latency_ms=5, job_pickup_ms=0
        ) as server:
            rows = asyncio.run(measure(server.port, args.items, args.rounds))
    print_table(rows, args.rounds)


if __name__ == "__main__":
    main()
