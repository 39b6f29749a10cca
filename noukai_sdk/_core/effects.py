"""Effects: how protocol code asks for I/O without doing it, and the two shells that do it.

Every protocol of the SDK (retries, the tool-call loop, job waiting, the step protocol, replay)
is a plain generator that *yields effects* and receives their results::

    def fetch_twice(request: HttpRequest) -> Steps[HttpResponse]:
        first = yield SendRequest(request)
        yield Sleep(0.5)
        return (yield SendRequest(request))

:func:`run_sync` / :func:`run_async` drive such a generator to its return value, and
:func:`iterate_sync` / :func:`iterate_async` drive one that also yields :class:`Emit` values to the
caller (the streaming iterators). The protocol logic therefore exists once; only these four small
drivers know whether the client is blocking or asyncio. An exception raised while performing an
effect is thrown back into the protocol at the ``yield``, so protocols handle I/O errors with plain
``try``/``except``.

Streams: a protocol has at most one open stream at a time. :class:`OpenStream` opens it (closing any
previous one) and returns its :class:`~noukai_sdk._core.http_types.StreamHead`; :class:`ReadStream`
returns the next chunk of body bytes (``b""`` at the end); :class:`CloseStream` releases it. The
drivers always close an open stream when the protocol finishes, fails, or the caller stops
iterating early (``break``, ``close()``), so connections go back to the pool at once.

Effects are named tuples: immutable like frozen dataclasses, but far cheaper to define at import
time and to create on the hot path. Drivers tell them apart by type (``isinstance``), never by
equality.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any, NamedTuple, Protocol, TypeVar

from noukai_sdk._core.clock import current_clock
from noukai_sdk._core.http_types import HttpRequest, HttpResponse, StreamHead

T = TypeVar("T")
E = TypeVar("E")


class SendRequest(NamedTuple):
    """Perform one HTTP attempt (no retries); result: :class:`HttpResponse` of any status."""

    request: HttpRequest


class OpenStream(NamedTuple):
    """Open a streaming request; result: its :class:`StreamHead` (body not yet read)."""

    request: HttpRequest


class ReadStream(NamedTuple):
    """Read the next body chunk of the open stream; result: ``bytes`` (``b""`` at the end)."""


class CloseStream(NamedTuple):
    """Close the open stream (no-op when none is open); result: ``None``."""


class Sleep(NamedTuple):
    """Wait ``seconds`` on the current clock (see :mod:`noukai_sdk._core.clock`); result: ``None``."""

    seconds: float


class YieldToLoop(NamedTuple):
    """Let other asyncio tasks run once (a no-op for the blocking driver); result: ``None``."""


class IsAsync(NamedTuple):
    """Ask which driver runs the protocol; result: ``True`` for asyncio, ``False`` for blocking."""


class CallUser(NamedTuple):
    """Call user code (a tool handler); the async driver awaits an awaitable result.

    The blocking driver refuses an awaitable result with a ``TypeError``: it cannot await it.
    """

    func: Callable[..., Any]
    args: tuple[Any, ...] = ()


class Emit(NamedTuple):
    """Hand ``value`` to the consumer of an iterating protocol; result: ``None``."""

    value: Any


Effect = (
    SendRequest
    | OpenStream
    | ReadStream
    | CloseStream
    | Sleep
    | YieldToLoop
    | IsAsync
    | CallUser
    | Emit
)
Steps = Generator[Effect, Any, T]
"""A protocol that returns ``T``: a generator yielding effects and receiving their results."""


class SyncStream(Protocol):
    head: StreamHead

    def read(self) -> bytes: ...

    def close(self) -> None: ...


class AsyncStream(Protocol):
    head: StreamHead

    async def read(self) -> bytes: ...

    async def aclose(self) -> None: ...


class SyncIO(Protocol):
    """What the blocking driver needs from the transport."""

    def send(self, request: HttpRequest) -> HttpResponse: ...

    def open_stream(self, request: HttpRequest) -> SyncStream: ...


class AsyncIO(Protocol):
    """What the asyncio driver needs from the transport."""

    async def send(self, request: HttpRequest) -> HttpResponse: ...

    async def open_stream(self, request: HttpRequest) -> AsyncStream: ...


# --- typed helpers for protocol code -------------------------------------------------------


def send(request: HttpRequest) -> Generator[Effect, Any, HttpResponse]:
    """One HTTP attempt, typed: ``response = yield from send(request)``."""
    response: HttpResponse = yield SendRequest(request)
    return response


def open_stream(request: HttpRequest) -> Generator[Effect, Any, StreamHead]:
    head: StreamHead = yield OpenStream(request)
    return head


READ_STREAM = ReadStream()
"""The one :class:`ReadStream` value; a stream loop yields it directly (``chunk = yield
READ_STREAM``) instead of building an effect per chunk."""


def read_stream() -> Generator[Effect, Any, bytes]:
    chunk: bytes = yield READ_STREAM
    return chunk


def call_user(func: Callable[..., Any], *args: Any) -> Generator[Effect, Any, Any]:
    return (yield CallUser(func, args))


def is_async() -> Generator[Effect, Any, bool]:
    """Whether the asyncio driver runs this protocol: ``asynchronous = yield from is_async()``."""
    answer: bool = yield IsAsync()
    return answer


# --- drivers ---------------------------------------------------------------------------------


class _SyncEffects:
    """Performs effects for the blocking driver; owns the protocol's open stream."""

    def __init__(self, io: SyncIO) -> None:
        self.io = io
        self.stream: SyncStream | None = None

    def perform(self, effect: Effect) -> Any:
        if isinstance(effect, ReadStream):
            return self.stream.read() if self.stream is not None else b""
        if isinstance(effect, SendRequest):
            return self.io.send(effect.request)
        if isinstance(effect, OpenStream):
            self.close()
            self.stream = self.io.open_stream(effect.request)
            return self.stream.head
        if isinstance(effect, CloseStream):
            return self.close()
        if isinstance(effect, Sleep):
            return current_clock().sleep(effect.seconds) if effect.seconds > 0 else None
        if isinstance(effect, CallUser):
            return _refuse_awaitable(effect.func(*effect.args))
        if isinstance(effect, (YieldToLoop, IsAsync)):
            return False if isinstance(effect, IsAsync) else None
        raise TypeError(f"unexpected effect {effect!r}")

    def close(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.close()


def _refuse_awaitable(result: object) -> object:
    """A blocking client cannot await what user code returned (e.g. a lambda around a coroutine)."""
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if callable(close):
            close()  # no "coroutine was never awaited" warning on top of the error
        raise TypeError(
            "Sync client cannot use async tool_handler (it returned an awaitable); use AsyncNoukai."
        )
    return result


class _AsyncEffects:
    """Performs effects for the asyncio driver; owns the protocol's open stream."""

    def __init__(self, io: AsyncIO) -> None:
        self.io = io
        self.stream: AsyncStream | None = None

    async def perform(self, effect: Effect) -> Any:
        if isinstance(effect, ReadStream):
            return await self.stream.read() if self.stream is not None else b""
        if isinstance(effect, SendRequest):
            return await self.io.send(effect.request)
        if isinstance(effect, OpenStream):
            await self.close()
            self.stream = await self.io.open_stream(effect.request)
            return self.stream.head
        if isinstance(effect, CloseStream):
            return await self.close()
        if isinstance(effect, Sleep):
            return await current_clock().asleep(effect.seconds) if effect.seconds > 0 else None
        if isinstance(effect, CallUser):
            result = effect.func(*effect.args)
            return await result if inspect.isawaitable(result) else result
        if isinstance(effect, YieldToLoop):
            import asyncio

            return await asyncio.sleep(0)
        if isinstance(effect, IsAsync):
            return True
        raise TypeError(f"unexpected effect {effect!r}")

    async def close(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            await stream.aclose()


def iterate_sync(protocol: Steps[Any], io: SyncIO) -> Iterator[Any]:
    """Drive ``protocol`` with blocking I/O, yielding each :class:`Emit` value."""
    effects = _SyncEffects(io)
    send, throw = protocol.send, protocol.throw
    try:
        effect = send(None)
        while True:
            # Emit and ReadStream come once per event and per chunk: tested first, by exact type.
            kind = type(effect)
            if kind is Emit:
                yield effect.value  # type: ignore[union-attr]
                effect = send(None)
                continue
            try:
                stream = effects.stream
                value = (
                    stream.read()
                    if kind is ReadStream and stream is not None
                    else effects.perform(effect)
                )
            except Exception as exc:  # delivered to the protocol at its yield
                effect = throw(exc)
                continue
            effect = send(value)
    except StopIteration:
        return
    finally:
        protocol.close()
        effects.close()


async def iterate_async(protocol: Steps[Any], io: AsyncIO) -> AsyncIterator[Any]:
    """Drive ``protocol`` with asyncio I/O, yielding each :class:`Emit` value."""
    effects = _AsyncEffects(io)
    send, throw = protocol.send, protocol.throw
    try:
        effect = send(None)
        while True:
            kind = type(effect)
            if kind is Emit:
                yield effect.value  # type: ignore[union-attr]
                effect = send(None)
                continue
            try:
                stream = effects.stream
                value = (
                    await stream.read()
                    if kind is ReadStream and stream is not None
                    else await effects.perform(effect)
                )
            except Exception as exc:  # delivered to the protocol at its yield
                effect = throw(exc)
                continue
            effect = send(value)
    except StopIteration:
        return
    finally:
        protocol.close()
        await effects.close()


def run_sync(protocol: Steps[T], io: SyncIO) -> T:
    """Drive ``protocol`` to its return value with blocking I/O."""
    effects = _SyncEffects(io)
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                effect = protocol.send(value) if error is None else protocol.throw(error)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            value = error = None
            if isinstance(effect, Emit):
                raise TypeError(f"protocol emitted {effect.value!r} outside an iterator")
            try:
                value = effects.perform(effect)
            except Exception as exc:  # delivered to the protocol at its yield
                error = exc
    finally:
        protocol.close()
        effects.close()


async def run_async(protocol: Steps[T], io: AsyncIO) -> T:
    """Drive ``protocol`` to its return value with asyncio I/O."""
    effects = _AsyncEffects(io)
    value: Any = None
    error: BaseException | None = None
    try:
        while True:
            try:
                effect = protocol.send(value) if error is None else protocol.throw(error)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            value = error = None
            if isinstance(effect, Emit):
                raise TypeError(f"protocol emitted {effect.value!r} outside an iterator")
            try:
                value = await effects.perform(effect)
            except Exception as exc:  # delivered to the protocol at its yield
                error = exc
    finally:
        protocol.close()
        await effects.close()
