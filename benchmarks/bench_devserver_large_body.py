"""How long other requests wait while the dev server takes in one large body.

Starts ``noukai dev-server --port 0 --latency 0 --db :memory:`` as a subprocess; a second thread
sends ``GET /healthz`` back to back over its own connection while the main thread posts one large
body to ``…/hello-world/execute``. Prints, side by side, the health-check latency with no large
body, while an 8 MB JSON array is refused (parsed in a worker thread, then 422), and while a run
with an 8 MB array in its parameters executes (the run itself still serialises those parameters on
the event loop: stored run state, step records, events).

Run: ``python benchmarks/bench_devserver_large_body.py [--items 4000000]``. Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import httpx

from noukai_sdk.devserver.process import DevServerProcess

HEADERS = {"Authorization": "Bearer nk_dev_local"}
EXECUTE = "/seq/demo/examples/hello-world/execute"


def ping_while(server: DevServerProcess, body: bytes | None) -> tuple[list[float], float]:
    """Health-check latencies (seconds) while ``body`` is posted, and the post's own duration."""
    latencies: list[float] = []
    done = threading.Event()

    def ping() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=120) as http:
            while not done.is_set():
                started = time.perf_counter()
                http.get("/healthz")
                latencies.append(time.perf_counter() - started)

    pinger = threading.Thread(target=ping)
    pinger.start()
    started = time.perf_counter()
    if body is None:
        time.sleep(1.0)
    else:
        httpx.post(server.base_url + EXECUTE, content=body, headers=HEADERS, timeout=120)
    took = time.perf_counter() - started
    done.set()
    pinger.join()
    return latencies, took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=4_000_000, help="array items (8 MB default)")
    args = parser.parse_args()
    array = b"[" + b",".join([b"1"] * args.items) + b"]"
    cases = {
        "no large body (1 s)": None,
        f"{len(array) / 1e6:.0f} MB JSON array (422)": array,
        f"{len(array) / 1e6:.0f} MB array in parameters (run)": (
            b'{"message": "x", "parameters": {"values": ' + array + b"}}"
        ),
    }
    with DevServerProcess(db=":memory:", latency_ms=0) as server:
        ping_while(server, b'{"message": "warm up"}')
        print(f"{'while the server takes in':<40} {'post':>8} {'pings':>6} {'p50':>9} {'max':>9}")
        for name, body in cases.items():
            latencies, took = ping_while(server, body)
            p50 = statistics.median(latencies) * 1000
            worst = max(latencies) * 1000
            print(f"{name:<40} {took:>7.2f}s {len(latencies):>6} {p50:>7.1f}ms {worst:>7.1f}ms")


if __name__ == "__main__":
    main()
