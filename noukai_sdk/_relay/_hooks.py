"""Running the app's ``authorize`` hook to its answer, whatever kind of callable it is."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def wait_for(awaitable: Awaitable[Any]) -> Any:
    """The result of ``awaitable`` from blocking code (a Flask view calling an async hook).

    Flask views are plain functions, so the hook gets an event loop of its own for the call.
    """

    async def outcome() -> Any:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(outcome())
    # This thread already runs a loop (Flask behind an ASGI bridge): it cannot be re-entered.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, outcome()).result()
