"""Serve an asyncio connection handler on a loopback port from a background thread (test helpers)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextmanager
def serving(handle: Handler, *, tasks: set[asyncio.Task[None]] | None = None) -> Iterator[int]:
    """Serve ``handle`` until the block ends; yields the port. ``tasks`` (the handler's own
    record of its running connections) are cancelled before the loop stops."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, asyncio.base_events.Server] = {}

    async def start() -> None:
        holder["server"] = await asyncio.start_server(handle, "127.0.0.1", 0)
        started.set()

    async def stop() -> None:
        holder["server"].close()
        running = list(tasks or ())
        for task in running:  # kept-alive client connections
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    thread = threading.Thread(
        target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True
    )
    thread.start()
    started.wait(10)
    try:
        yield holder["server"].sockets[0].getsockname()[1]
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
