"""The HTTP stack against its floors, over a real loopback server in another process.

    python benchmarks/bench_transport.py [--rounds 5] [--calls 400] [--events 20000]

Every row is client user CPU time (``getrusage`` of this process, see :func:`user_cpu`; the server runs in
``loopback_server.py``) of the SDK against the raw client of the same library, measured side by
side in one run (interleaved rounds, medians), once on httpx and once on httpx2 (an injected
``httpx2`` client, or ``timeout=httpx2.Timeout`` where the SDK builds the client). Not a pass/fail
test: the table prints each budget next to the ratio.

Rows:
- sequential ``execute()``, sync and async: one request at a time vs a raw POST + ``.json()``;
- async at concurrency 50: ``asyncio.gather`` of 50 ``execute()`` calls at a time vs the same over a
  raw ``AsyncClient`` with default limits (its pool keeps 20 idle connections), against a flow the
  server answers after 50 ms, so that 50 connections really are open at once;
- ``events()`` end to end, sync and async: a 20,000-event ``/step`` stream typed and validated vs
  the raw client's ``iter_bytes()``/``aiter_bytes()`` + a split-and-``json.loads`` floor parser;
- a second client: constructing ``Noukai()`` when one already exists vs a fresh raw ``Client()``
  (wall time: mostly building a TLS context);
- import: ``import noukai_sdk`` vs ``import httpx, pydantic`` in fresh interpreters.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterable, Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from bench_sse import Floor, floor

from noukai_sdk import AsyncNoukai, Noukai

KEY = "nk_bench_key"
FLOW = "acme/bench/hello"
BODY: dict[str, Any] = {"message": "hi", "parameters": {}, "iterationsUsed": 0}
CONCURRENCY = 50


class LoopbackServer:
    """``loopback_server.py`` in its own process; stops when this process closes its stdin."""

    def __init__(self, events: int) -> None:
        script = Path(__file__).with_name("loopback_server.py")
        self.process = subprocess.Popen(
            [sys.executable, str(script), "--events", str(events)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline().split()[1])
        self.base = f"http://localhost:{self.port}/api/v1/seq/{FLOW}"
        self.queries = 0

    def connections(self) -> int:
        """TCP connections the server has accepted so far, these queries' own left out."""
        self.queries += 1
        query = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            query.request("GET", "/_connections")
            return int(query.getresponse().read()) - self.queries
        finally:
            query.close()

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


# --- the floor parser (bench_sse.Floor: split on blank lines + json.loads, untyped) -------------


async def afloor(chunks: AsyncIterable[bytes]) -> int:
    parser = Floor()
    count = 0
    async for chunk in chunks:
        count += parser.feed(chunk)
    return count


# --- contenders --------------------------------------------------------------------------------------


def _sdk_client(lib: ModuleType, port: int, kind: str) -> Any:
    """The SDK client on ``lib``: the default httpx pool, or httpx2 chosen by ``timeout=``."""
    options: dict[str, Any] = {"env": "dev", "dev_port": port}
    if lib is not httpx:
        options["timeout"] = lib.Timeout(300.0)
    return Noukai(KEY, **options) if kind == "sync" else AsyncNoukai(KEY, **options)


def user_cpu() -> float:
    """User CPU seconds of this process: the client's own work.

    System time is left out: on loopback, the kernel runs the TCP stack of both ends in whichever
    process happens to send, so it moves between client and server at random from run to run
    (the same bytes and the same number of socket calls for every contender)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime


def cpu(run: Callable[[], object]) -> float:
    gc.collect()
    start = user_cpu()
    run()
    return user_cpu() - start


def async_side_by_side(
    ours: Callable[[], Awaitable[object]],
    floor: Callable[[], Awaitable[object]],
    rounds: int,
    clients: list[Any],
) -> float:
    """Median ratio ours/floor in one event loop (pooled connections belong to their loop)."""

    async def row() -> float:
        async def measure(run: Callable[[], Awaitable[object]]) -> float:
            gc.collect()
            start = user_cpu()
            await run()
            return user_cpu() - start

        assert await floor() == await ours()  # warm-up, and both see the same answers
        times: dict[str, list[float]] = {"ours": [], "floor": []}
        for _ in range(rounds):
            times["floor"].append(await measure(floor))
            times["ours"].append(await measure(ours))
        for client in clients:
            await client.aclose()
        return min(times["ours"]) / min(times["floor"])

    return asyncio.run(row())


def side_by_side(ours: Callable[[], float], floor: Callable[[], float], rounds: int) -> float:
    """Ratio of the fastest rounds, ours/floor, over interleaved rounds after a warm-up of each.

    The minimum, not the median: on a shared machine other jobs only ever add time to a round,
    so each contender's fastest round is its best estimate of its own cost."""
    ours(), floor()
    times: dict[str, list[float]] = {"ours": [], "floor": []}
    for _ in range(rounds):
        times["floor"].append(floor())
        times["ours"].append(ours())
    return min(times["ours"]) / min(times["floor"])


def sequential_sync(lib: ModuleType, server: LoopbackServer, rounds: int, calls: int) -> float:
    raw = lib.Client(headers={"Authorization": f"Bearer {KEY}"})
    flow = _sdk_client(lib, server.port, "sync").flow(FLOW)
    url = server.base + "/execute"

    def floor() -> float:
        return cpu(lambda: [raw.post(url, json=BODY).json() for _ in range(calls)])

    def ours() -> float:
        return cpu(lambda: [flow.execute("hi") for _ in range(calls)])

    return side_by_side(ours, floor, rounds)


def sequential_async(lib: ModuleType, server: LoopbackServer, rounds: int, calls: int) -> float:
    url = server.base + "/execute"
    raw = lib.AsyncClient(headers={"Authorization": f"Bearer {KEY}"})
    client = _sdk_client(lib, server.port, "async")
    flow = client.flow(FLOW)

    async def floor_calls() -> None:
        for _ in range(calls):
            (await raw.post(url, json=BODY)).json()

    async def our_calls() -> None:
        for _ in range(calls):
            await flow.execute("hi")

    # One event loop for the whole row: pooled connections belong to the loop that opened them.
    return async_side_by_side(our_calls, floor_calls, rounds, [raw, client])


NOTES: list[str] = []
"""Lines printed under the table (connections opened by the concurrency row)."""


def concurrent_async(lib: ModuleType, server: LoopbackServer, rounds: int, calls: int) -> float:
    url = server.base.replace("/hello", "/slow") + "/execute"
    raw = lib.AsyncClient(headers={"Authorization": f"Bearer {KEY}"})  # default limits
    client = _sdk_client(lib, server.port, "async")
    flow = client.flow(FLOW.replace("/hello", "/slow"))
    waves = max(1, calls // CONCURRENCY)
    opened = {"floor": 0, "ours": 0}

    async def floor_calls() -> None:
        async def one() -> None:
            (await raw.post(url, json=BODY)).json()

        before = server.connections()
        for _ in range(waves):
            await asyncio.gather(*(one() for _ in range(CONCURRENCY)))
        opened["floor"] += server.connections() - before

    async def our_calls() -> None:
        before = server.connections()
        for _ in range(waves):
            await asyncio.gather(*(flow.execute("hi") for _ in range(CONCURRENCY)))
        opened["ours"] += server.connections() - before

    ratio = async_side_by_side(our_calls, floor_calls, rounds, [raw, client])
    per_1000 = {
        side: count * 1000 // ((rounds + 1) * waves * CONCURRENCY) for side, count in opened.items()
    }
    NOTES.append(
        f"concurrency {CONCURRENCY} on {lib.__name__}: new connections per 1,000 requests: "
        f"raw {per_1000['floor']}, SDK {per_1000['ours']}"
    )
    return ratio


def events_sync(lib: ModuleType, server: LoopbackServer, rounds: int) -> float:
    raw = lib.Client(headers={"Authorization": f"Bearer {KEY}"})
    flow = _sdk_client(lib, server.port, "sync").flow(FLOW)
    url = server.base + "/step"

    def floor_run() -> int:
        with raw.stream("POST", url, json={"stepIndex": 0}) as response:
            return floor(response.iter_bytes())

    def our_run() -> int:
        with flow.events("hi", run_remaining=True) as stream:
            return sum(1 for _ in stream)

    assert floor_run() == our_run()
    return side_by_side(lambda: cpu(our_run), lambda: cpu(floor_run), rounds)


def events_async(lib: ModuleType, server: LoopbackServer, rounds: int) -> float:
    url = server.base + "/step"
    raw = lib.AsyncClient(headers={"Authorization": f"Bearer {KEY}"})
    client = _sdk_client(lib, server.port, "async")
    flow = client.flow(FLOW)

    async def floor_run() -> int:
        async with raw.stream("POST", url, json={"stepIndex": 0}) as response:
            return await afloor(response.aiter_bytes())

    async def our_run() -> int:
        count = 0
        async with flow.events("hi", run_remaining=True) as stream:
            async for _ in stream:
                count += 1
        return count

    return async_side_by_side(our_run, floor_run, rounds, [raw, client])


def second_client(lib: ModuleType, rounds: int) -> float:
    """Wall time of one more ``Noukai()`` (production URL: TLS) vs a fresh raw ``Client()``."""
    options: dict[str, Any] = {} if lib is httpx else {"timeout": lib.Timeout(300.0)}
    first = Noukai(KEY, **options)

    def wall(build: Callable[[], Any]) -> float:
        start = time.perf_counter()
        client = build()
        elapsed = time.perf_counter() - start
        client.close()
        return elapsed

    result = side_by_side(
        lambda: wall(lambda: Noukai(KEY, **options)), lambda: wall(lib.Client), rounds * 3
    )
    first.close()
    return result


def imports(rounds: int) -> float:
    """``import noukai_sdk`` vs ``import httpx, pydantic``, fresh interpreters, warm bytecode."""
    with tempfile.TemporaryDirectory(prefix="noukai-bench-pyc-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache

        def seconds(statement: str) -> float:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], check=True, env=env)
            return time.perf_counter() - start

        statements = ("pass", "import httpx, pydantic", "import noukai_sdk")
        for statement in statements:
            seconds(statement)
        empty, floor, ours = ([seconds(s) for _ in range(rounds * 2)] for s in statements)
        base = statistics.median(empty)
        return (statistics.median(ours) - base) / (statistics.median(floor) - base)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    try:
        import httpx2
    except ImportError:  # Python 3.10, or not installed: the httpx column only
        libraries: list[ModuleType] = [httpx]
    else:
        libraries = [httpx, httpx2]

    server = LoopbackServer(args.events)
    rows: list[tuple[str, float, Callable[[ModuleType], float] | None]] = [
        (
            "sync execute(), sequential",
            1.0,
            lambda lib: sequential_sync(lib, server, args.rounds, args.calls),
        ),
        (
            "async execute(), sequential",
            1.0,
            lambda lib: sequential_async(lib, server, args.rounds, args.calls),
        ),
        (
            f"async execute(), concurrency {CONCURRENCY}",
            0.85,
            lambda lib: concurrent_async(lib, server, args.rounds, args.calls * 2),
        ),
        (
            f"sync events(), {args.events:,} events",
            1.1,
            lambda lib: events_sync(lib, server, args.rounds),
        ),
        (
            f"async events(), {args.events:,} events",
            1.1,
            lambda lib: events_async(lib, server, args.rounds),
        ),
        ("second Noukai() vs fresh Client()", 0.5, lambda lib: second_client(lib, args.rounds)),
    ]
    names = [lib.__name__ for lib in libraries]
    print(f"{'measurement (CPU ratio to the raw client)':44}" + "".join(f"{n:>9}" for n in names))
    try:
        for title, budget, measure in rows:
            assert measure is not None
            ratios = [measure(lib) for lib in libraries]
            cells = "".join(f"{ratio:>8.2f}x" for ratio in ratios)
            print(f"{title:44}{cells}   budget <= {budget:.2f}x", flush=True)
    finally:
        server.stop()
    ratio = imports(args.rounds)
    cells = f"{ratio:>8.2f}x" + "".join(f"{'-':>9}" for _ in libraries[1:])
    print(f"{'import noukai_sdk vs import httpx, pydantic':44}{cells}   budget <= 1.00x")
    for note in NOTES:
        print(note)


if __name__ == "__main__":
    main()
