"""The public iterator objects returned by ``steps()``, ``events()`` and ``live_trace()``.

Each wraps one protocol (see :mod:`noukai_sdk._core.step_protocol`) and the driver that runs it. They
are context managers, and ``close()``/``aclose()`` stop the protocol and hand the HTTP connection
back to the pool at once. Leaving a ``for`` loop with ``break`` or an exception does the same
as soon as the stream object is no longer referenced; for ``async for``, Python cannot close an
async iterator synchronously, so the event loop's async-generator finalizer closes it on its next
turn. ``with``/``async with`` makes the release immediate in every case.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

from typing_extensions import Self

from noukai_sdk._core.effects import AsyncIO, Steps, SyncIO, iterate_async, iterate_sync

EventT = TypeVar("EventT", covariant=True)


class EventStream(Generic[EventT]):
    """A blocking stream of typed events: iterate it, ideally inside ``with``."""

    __slots__ = ("_events",)

    def __init__(self, protocol: Steps[Any], io: SyncIO) -> None:
        self._events: Iterator[EventT] = iterate_sync(protocol, io)

    def __iter__(self) -> Iterator[EventT]:
        # The driver's generator itself: a ``for`` loop then pays no extra call per event.
        return self._events

    def __next__(self) -> EventT:
        return next(self._events)

    def close(self) -> None:
        """Stop the stream and release its connection (safe to call more than once)."""
        close = getattr(self._events, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class AsyncEventStream(Generic[EventT]):
    """An asyncio stream of typed events: ``async for`` it, ideally inside ``async with``."""

    __slots__ = ("_events",)

    def __init__(self, protocol: Steps[Any], io: AsyncIO) -> None:
        self._events: AsyncIterator[EventT] = iterate_async(protocol, io)

    def __aiter__(self) -> AsyncIterator[EventT]:
        # The driver's async generator itself: ``async for`` pays no extra await per event.
        return self._events

    async def __anext__(self) -> EventT:
        return await self._events.__anext__()

    async def aclose(self) -> None:
        """Stop the stream and release its connection (safe to call more than once)."""
        aclose = getattr(self._events, "aclose", None)
        if aclose is not None:
            await aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
