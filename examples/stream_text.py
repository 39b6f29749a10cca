"""Streaming text: print a flow's answer as it arrives, then its result, usage and a resumed run.

Needs ``pip install 'noukai-sdk[devserver]'`` (from a clone: ``pip install -e '.[devserver]'``).

    python examples/stream_text.py
"""

from __future__ import annotations

import asyncio
import signal
import sys

from noukai_sdk import AsyncNoukai, Noukai
from noukai_sdk.devserver.process import DevServerProcess


def main() -> None:
    with (
        DevServerProcess(latency_ms=20) as server,
        Noukai(server.api_key, env="dev", dev_port=server.port) as noukai,
    ):
        flow = noukai.flow("demo/examples/streaming")
        with flow.stream_text("Every word arrives on its own") as stream:
            for delta in stream:
                print(delta, end="", flush=True)
        print()
        result = stream.final_result()
        print(f"run {result.execution_id}: {result.status}, {stream.usage.total_tokens} tokens")

        # step= keeps one step's text; auto_resume reconnects a stream cut after the run started.
        two_step = noukai.flow("demo/examples/two-step")
        with two_step.stream_text("Only the polish", step="polish", auto_resume=2) as polished:
            print("polish:", "".join(polished))

        asyncio.run(stream_async(server.api_key, server.port))


async def stream_async(api_key: str, port: int) -> None:
    async with AsyncNoukai(api_key, env="dev", dev_port=port) as noukai:
        flow = noukai.flow("demo/examples/streaming")
        async with flow.stream_text("the same with asyncio") as stream:
            deltas = [delta async for delta in stream]
        print(f"async: {len(deltas)} deltas -> {stream.text!r}, cost ${stream.usage.cost_usd}")


if __name__ == "__main__":
    # SIGTERM exits like Ctrl-C would: the `with` blocks run, so the dev server stops too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main()
