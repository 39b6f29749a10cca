"""The clock the drivers sleep on and the job protocols read: real time, or a test's fake.

Protocols never call ``time`` themselves; they yield ``Sleep`` and the drivers ask the current
clock. Tests swap it with :func:`use_clock` so that retry backoffs and job polling take no real
time while the protocols still see time pass.
"""

from __future__ import annotations

import time


class Clock:
    """Monotonic time and sleeping; the default is the real thing."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        import asyncio  # only asyncio clients need it, and it is slow to import

        await asyncio.sleep(seconds)


_current = Clock()


def current_clock() -> Clock:
    """The clock in use (read at every sleep, so a swap takes effect at once)."""
    return _current


def use_clock(clock: Clock) -> Clock:
    """Make ``clock`` the one in use; returns the previous one, to put back."""
    global _current
    previous, _current = _current, clock
    return previous


def monotonic() -> float:
    """The current clock's monotonic time."""
    return _current.monotonic()
