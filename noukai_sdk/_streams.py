"""The public iterator objects returned by ``steps()``, ``events()``, ``live_trace()``,
``stream_text()`` and ``stream_object()``.

Each wraps one protocol (see :mod:`noukai_sdk._core.step_protocol`) and the driver that runs it. They
are context managers, and ``close()``/``aclose()`` stop the protocol and hand the HTTP connection
back to the pool at once. Leaving a ``for`` loop with ``break`` or an exception does the same
as soon as the stream object is no longer referenced; for ``async for``, Python cannot close an
async iterator synchronously, so the event loop's async-generator finalizer closes it on its next
turn. ``with``/``async with`` makes the release immediate in every case.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from noukai_sdk._closing import AsyncClosing, Closing
from noukai_sdk._core.effects import AsyncIO, Steps, SyncIO, iterate_async, iterate_sync
from noukai_sdk._core.errors import OutputValidationError
from noukai_sdk._core.object_output import validate_streamed_object
from noukai_sdk._core.object_snapshots import NO_SNAPSHOT
from noukai_sdk._core.text_streams import SKIP, ObjectRun, TextRun

if TYPE_CHECKING:
    from noukai_sdk._core.results import ExecuteResult
    from noukai_sdk._core.usage import Usage

EventT = TypeVar("EventT", covariant=True)
ObjectT = TypeVar("ObjectT")
RunT = TypeVar("RunT", TextRun, ObjectRun)
ItemT = TypeVar("ItemT")


class EventStream(Closing, Generic[EventT]):
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

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class AsyncEventStream(AsyncClosing, Generic[EventT]):
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

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class _ConvertedResults(Generic[RunT]):
    """``text``, ``usage``, ``execution_id``: what a text or object stream knows about its run."""

    __slots__ = ()

    _run: RunT

    @property
    def text(self) -> str:
        """All text deltas so far, joined (the whole text once the loop has ended)."""
        return self._run.text

    @property
    def usage(self) -> Usage:
        """Tokens and cost summed over the completed steps (the run's total once it has ended)."""
        return self._run.record.usage

    @property
    def execution_id(self) -> str | None:
        """The run's id, known once the server has started the run."""
        return self._run.record.execution_id


class _ConvertedStream(_ConvertedResults[RunT], EventStream[ItemT]):
    """A blocking stream of what ``run.convert`` makes of each event of the run."""

    __slots__ = ("_items", "_run", "_session_id")

    def __init__(self, events: Steps[Any], io: SyncIO, run: RunT, session_id: str | None) -> None:
        super().__init__(events, io)
        self._run = run
        self._session_id = session_id
        self._items: Iterator[ItemT] = _converted(self._events, run.convert, self.close)

    def __iter__(self) -> Iterator[ItemT]:
        return self._items  # a ``for`` loop resumes the generator directly, one call less per item

    def __next__(self) -> ItemT:
        return next(self._items)

    def final_result(self) -> ExecuteResult:
        """The run's result as ``execute()`` returns it; reads what is left of the stream first."""
        for _ in self:
            pass
        return self._run.record.execute_result(session_id=self._session_id)


def _converted(
    events: Iterator[Any], convert: Callable[[Any], Any], close: Callable[[], None]
) -> Iterator[Any]:
    try:
        for event in events:
            value = convert(event)
            if value is not SKIP:
                yield value
    except Exception:
        close()  # a failed step: the connection goes back at once
        raise


class _AsyncConvertedStream(_ConvertedResults[RunT], AsyncEventStream[ItemT]):
    """An asyncio stream of what ``run.convert`` makes of each event of the run."""

    __slots__ = ("_items", "_run", "_session_id")

    def __init__(self, events: Steps[Any], io: AsyncIO, run: RunT, session_id: str | None) -> None:
        super().__init__(events, io)
        self._run = run
        self._session_id = session_id
        self._items: AsyncIterator[ItemT] = _async_converted(self._events, run.convert, self.aclose)

    def __aiter__(self) -> AsyncIterator[ItemT]:
        return self._items

    async def __anext__(self) -> ItemT:
        return await self._items.__anext__()

    async def final_result(self) -> ExecuteResult:
        """The run's result as ``execute()`` returns it; reads what is left of the stream first."""
        async for _ in self:
            pass
        return self._run.record.execute_result(session_id=self._session_id)


async def _async_converted(
    events: AsyncIterator[Any],
    convert: Callable[[Any], Any],
    aclose: Callable[[], Awaitable[None]],
) -> AsyncIterator[Any]:
    try:
        async for event in events:
            value = convert(event)
            if value is not SKIP:
                yield value
    except Exception:
        await aclose()
        raise


class TextStream(_ConvertedStream[TextRun, str]):
    """The text of one run as it arrives (``flow.stream_text()``): iterate the ``str`` deltas.

    After the loop: :attr:`text`, :attr:`usage`, :attr:`execution_id` and :meth:`final_result`.
    """

    __slots__ = ()

    def __init__(
        self, events: Steps[Any], io: SyncIO, *, step: str | None, session_id: str | None
    ) -> None:
        super().__init__(events, io, TextRun(step), session_id)


class AsyncTextStream(_AsyncConvertedStream[TextRun, str]):
    """The asyncio form of :class:`TextStream`: ``async for`` the deltas."""

    __slots__ = ()

    def __init__(
        self, events: Steps[Any], io: AsyncIO, *, step: str | None, session_id: str | None
    ) -> None:
        super().__init__(events, io, TextRun(step), session_id)


class ObjectStream(_ConvertedStream[ObjectRun, Any], Generic[ObjectT]):
    """A JSON object as it arrives (``flow.stream_object()``): iterate its partial snapshots.

    Each snapshot is a plain JSON value extending the one before; :meth:`final_object` is the
    strictly validated object.
    """

    __slots__ = ("_final", "_output_type")

    def __init__(
        self,
        events: Steps[Any],
        io: SyncIO,
        *,
        output_type: type[ObjectT],
        step: str | None,
        session_id: str | None,
    ) -> None:
        super().__init__(events, io, ObjectRun(step), session_id)
        self._output_type = output_type
        self._final: list[ObjectT] = []

    def final_object(self) -> ObjectT:
        """The object validated as the ``output_type`` (``OutputValidationError`` if it does not
        fit); reads what is left of the stream first."""
        for _ in self:
            pass
        return _final_object(self._run, self._output_type, self._final)


class AsyncObjectStream(_AsyncConvertedStream[ObjectRun, Any], Generic[ObjectT]):
    """The asyncio form of :class:`ObjectStream`: ``async for`` the snapshots."""

    __slots__ = ("_final", "_output_type")

    def __init__(
        self,
        events: Steps[Any],
        io: AsyncIO,
        *,
        output_type: type[ObjectT],
        step: str | None,
        session_id: str | None,
    ) -> None:
        super().__init__(events, io, ObjectRun(step), session_id)
        self._output_type = output_type
        self._final: list[ObjectT] = []

    async def final_object(self) -> ObjectT:
        """The object validated as the ``output_type``; see :meth:`ObjectStream.final_object`."""
        async for _ in self:
            pass
        return _final_object(self._run, self._output_type, self._final)


def _final_object(run: ObjectRun, output_type: type[ObjectT], cache: list[ObjectT]) -> ObjectT:
    """Validate the run's document once (later calls return the same object)."""
    if cache:
        return cache[0]
    record = run.record
    if not record.completed:
        raise RuntimeError(
            "The stream ended before the run finished (it was closed early, or failed), so "
            "there is no final object."
        )
    is_text, source = run.snapshots.final_source()
    if source is NO_SNAPSHOT:
        raise OutputValidationError(
            f"Run {record.execution_id or '(id unknown)'} finished without any output to read "
            "an object from.",
            raw_output=None,
            execution_id=record.execution_id,
        )
    value = validate_streamed_object(
        output_type, is_text=is_text, source=source, execution_id=record.execution_id
    )
    cache.append(value)
    return value
