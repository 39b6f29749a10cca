"""Trace/replay scopes: the context managers and the ``@trace`` decorator.

Entering a scope decides its mode: *replay* for a cassette file or an honoured
``replay_session_id``, else *capture* (a fresh UUID4 sent as ``X-Session-Id``), else *normal*. The
entry and exit logic is written once as sans-IO protocols (:class:`_ScopeCore`); the sync and async
managers only drive them. Differences from 0.2.0: a replay id passed without the gate raises
:class:`ReplayDisabledError`; ``scope_open`` is logged only once entry succeeded, and then
``scope_close`` always follows; the decorator joins an active scope instead of shadowing it and
covers the whole iteration of generator functions.

Scopes live in a context variable: asyncio tasks created inside inherit them, threads do not —
use ``contextvars.copy_context().run(...)`` to carry a scope into a worker thread.
"""

from __future__ import annotations

import functools
import inspect
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, Union, cast, overload

from typing_extensions import TypedDict

from noukai_sdk._client import client_link
from noukai_sdk._core.effects import AsyncIO, Steps, SyncIO, run_async, run_sync
from noukai_sdk._core.errors import ReplayDisabledError, ReplayLeftoverError
from noukai_sdk._core.http_types import HttpRequest, HttpResponse
from noukai_sdk._core.link import AsyncLink, SyncLink
from noukai_sdk._core.options import check_options
from noukai_sdk._core.scope import Scope, ScopeMode, active_scope, enter_scope, exit_scope
from noukai_sdk._replay._sessions import GATE_VARIABLE, replay_enabled

if TYPE_CHECKING:
    from contextvars import Token

    from typing_extensions import Unpack

    from noukai_sdk._client import AsyncNoukai, Noukai
    from noukai_sdk._core.effects import AsyncStream, SyncStream
    from noukai_sdk._core.link import ClientLink
    from noukai_sdk._replay._cassettes import PathLike
    from noukai_sdk_generated.models import SessionResponse

F = TypeVar("F", bound=Callable[..., Any])
ScopeClient = Union["Noukai", "AsyncNoukai", None]
ClientT = TypeVar("ClientT")
IOT = TypeVar("IOT")


class ScopeOptions(TypedDict, Generic[ClientT], total=False):
    """The keyword arguments of ``trace_scope()``/``trace_scope_sync()``."""

    client: ClientT | None
    replay_session_id: str | None
    capture: bool
    cassette: PathLike | None
    record_to: PathLike | None
    transport: object


class _ScopeCore:
    """Mode decision, session loading, leftover check, recording and scope log events."""

    def __init__(self, entry: str, options: ScopeOptions[Any]) -> None:
        check_options(entry, options, ScopeOptions)
        client, transport = options.get("client"), options.get("transport")
        record_to = options.get("record_to")
        link = _link_from_transport(transport) if client is None and transport is not None else None
        if record_to is not None and client is None and link is None:
            raise TypeError(
                "trace_scope(record_to=...) needs client= to fetch the session at exit."
            )
        self.link: ClientLink | None = link if client is None else client_link(client)
        self.replay_session_id = options.get("replay_session_id")
        self.capture = options.get("capture", True)
        self.cassette = options.get("cassette")
        self.record_to = record_to

    def open(self) -> Steps[Scope]:
        """Decide the mode, load the session for replay, log ``scope_open``."""
        from noukai_sdk._replay._matching import ReplayState

        session: SessionResponse | None = None
        if self.cassette is not None:
            session = self._load_cassette()
        elif self.replay_session_id:
            session = yield from self._fetch(self.replay_session_id)
        mode: ScopeMode
        if session is not None:
            from noukai_sdk._replay._matching import SessionMatcher, check_snapshots
            from noukai_sdk._replay._sessions import cache_for

            check_snapshots(session.session_id, session.executions)
            mode, session_id = "replay", session.session_id
            state: ReplayState | None = ReplayState(
                SessionMatcher(session.session_id, session.executions),
                cache=cache_for(self.link) if self.link is not None else None,
            )
        elif self.capture:
            mode, session_id, state = "capture", str(uuid.uuid4()), None
        else:
            mode, session_id, state = "normal", None, None
        scope = Scope(mode=mode, session_id=session_id, replay_state=state)
        self._log("scope_open", scope)
        return scope

    def close(self, scope: Scope, *, body_failed: bool) -> Steps[None]:
        """Check leftovers / record the capture (only after a clean body), log ``scope_close``."""
        try:
            if body_failed:
                return
            if scope.mode == "replay":
                _raise_on_leftovers(scope)
            elif self.record_to is not None and scope.session_id is not None:
                from noukai_sdk._replay._cassettes import record_session

                assert self.link is not None  # record_to without a client is refused at init
                yield from record_session(scope.session_id, self.record_to, self.link.context)
        finally:
            self._log("scope_close", scope)

    def _load_cassette(self) -> SessionResponse:
        from noukai_sdk._replay._cassettes import load_cassette

        assert self.cassette is not None
        session = load_cassette(self.cassette)
        wanted = self.replay_session_id
        if wanted and wanted.lower() != session.session_id.lower():
            raise ValueError(
                f"replay_session_id {wanted!r} does not match the cassette's session "
                f"{session.session_id!r} ({self.cassette})."
            )
        return session

    def _fetch(self, session_id: str) -> Steps[SessionResponse]:
        from noukai_sdk._replay._sessions import cache_for, cached_fetch, validate_session_id

        if not replay_enabled():
            raise ReplayDisabledError(
                f"Replay of session '{session_id}' was requested but replay is disabled; set "
                f"{GATE_VARIABLE}=1 to enable it (never in production)."
            )
        validate_session_id(session_id)
        if self.link is None:
            raise TypeError(
                "trace_scope(replay_session_id=...) needs client= (the Noukai client that "
                "fetches the recorded session), or cassette= to replay from a file."
            )
        return (yield from cached_fetch(session_id, self.link.context, cache_for(self.link)))

    def _log(self, phase: str, scope: Scope) -> None:
        if self.link is None:
            return
        event = {"phase": phase, "mode": scope.mode, "session_id": scope.session_id}
        self.link.context.log.emit(event)


def _raise_on_leftovers(scope: Scope) -> None:
    from noukai_sdk._replay._matching import ReplayState

    state = scope.replay_state
    assert isinstance(state, ReplayState)
    leftovers = state.matcher.leftovers()
    if leftovers:
        raise ReplayLeftoverError(
            f"Session '{scope.session_id}' has {len(leftovers)} unconsumed executions at "
            f"scope exit: {leftovers}. The code made fewer calls than were recorded; it has "
            "diverged from the recording."
        )


class _NoNetwork:
    """The I/O of a scope without a usable client: any request is a clear error."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def send(self, request: HttpRequest) -> HttpResponse:
        raise TypeError(self.reason)

    def open_stream(self, request: HttpRequest) -> SyncStream:
        raise TypeError(self.reason)


class _AsyncNoNetwork(_NoNetwork):
    async def send(self, request: HttpRequest) -> HttpResponse:  # type: ignore[override]
        raise TypeError(self.reason)

    async def open_stream(self, request: HttpRequest) -> AsyncStream:  # type: ignore[override]
        raise TypeError(self.reason)


class _ScopeEntries(Generic[IOT]):
    """What the sync and async scope share: the core, and the scopes entered and not yet left.

    One object may be entered again while already entered (nested ``with``), so each entry keeps
    its own scope and context token.
    """

    _kind: ClassVar[type[SyncLink] | type[AsyncLink]]
    """The link kind whose I/O this scope drives its protocols with."""
    _offline: ClassVar[type[_NoNetwork]]
    _mismatch: ClassVar[str]
    """Why a client of the other kind cannot serve this scope."""

    def __init__(self, core: _ScopeCore) -> None:
        self._core = core
        self._entered: list[tuple[Scope, Token[Scope | None]]] = []

    def _enter(self, scope: Scope) -> Scope:
        self._entered.append((scope, enter_scope(scope)))
        return scope

    def _leave(self) -> Scope:
        scope, token = self._entered.pop()
        exit_scope(token)
        return scope

    def _io(self) -> IOT:
        """The client's I/O, or one whose every request says why there is none to use."""
        link = self._core.link
        if isinstance(link, self._kind):
            return cast("IOT", link.io)
        reason = "this scope has no client" if link is None else self._mismatch
        return cast("IOT", self._offline(reason))


class SyncScope(_ScopeEntries[SyncIO]):
    """``with trace_scope_sync(...) as scope:`` — a scope for blocking code (``Noukai``)."""

    _kind = SyncLink
    _offline = _NoNetwork
    _mismatch = (
        "trace_scope_sync() got an AsyncNoukai client; use `async with trace_scope(...)` "
        "with AsyncNoukai, or pass the sync Noukai client."
    )

    def __enter__(self) -> Scope:
        return self._enter(self.open())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(self._leave(), body_failed=exc is not None)

    def open(self) -> Scope:
        return run_sync(self._core.open(), self._io())

    def close(self, scope: Scope, *, body_failed: bool) -> None:
        run_sync(self._core.close(scope, body_failed=body_failed), self._io())


class AsyncScope(_ScopeEntries[AsyncIO]):
    """``async with trace_scope(...) as scope:`` — a scope for asyncio code (``AsyncNoukai``)."""

    _kind = AsyncLink
    _offline = _AsyncNoNetwork
    _mismatch = (
        "trace_scope() (async) got the sync Noukai client; use `with "
        "trace_scope_sync(...)` with Noukai, or pass AsyncNoukai."
    )

    async def __aenter__(self) -> Scope:
        return self._enter(await self.open())

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close(self._leave(), body_failed=exc is not None)

    async def open(self) -> Scope:
        return await run_async(self._core.open(), self._io())

    async def close(self, scope: Scope, *, body_failed: bool) -> None:
        await run_async(self._core.close(scope, body_failed=body_failed), self._io())


def trace_scope(**options: Unpack[ScopeOptions[AsyncNoukai]]) -> AsyncScope:
    """An async scope: replay ``replay_session_id`` or a ``cassette`` file, else capture.

    ``client`` (an ``AsyncNoukai``) fetches the session for replay, receives ``scope_open`` /
    ``scope_close`` log events and, with ``record_to``, fetches the captured session at exit
    and writes it as a cassette file. A ``replay_session_id`` requires ``NOUKAI_REPLAY_ENABLED``
    (else :class:`ReplayDisabledError`); a ``cassette`` is a local file and needs no gate.
    ``transport=client._transport`` (the form the 0.2.0 and 0.5.x READMEs show) still works, with
    a ``DeprecationWarning``: it means ``client=``.
    """
    return AsyncScope(_ScopeCore("trace_scope()", options))


def trace_scope_sync(**options: Unpack[ScopeOptions[Noukai]]) -> SyncScope:
    """The blocking twin of :func:`trace_scope` (``client`` is a ``Noukai``)."""
    return SyncScope(_ScopeCore("trace_scope_sync()", options))


@overload
def trace(func: F, /) -> F: ...
@overload
def trace(*, client: Noukai | AsyncNoukai | None = None) -> Callable[[F], F]: ...
def trace(
    func: F | None = None, /, *, client: Noukai | AsyncNoukai | None = None
) -> F | Callable[[F], F]:
    """Run each call of the decorated function in a capture scope, or join the active scope.

    Works on plain, coroutine, generator and async-generator functions; generators are scoped
    for their whole iteration, and the scope is visible only while the generator's own code runs.
    ``client`` (optional) receives the scope log events; give the kind that matches the function
    (``Noukai`` for plain and generator functions, ``AsyncNoukai`` for async ones).
    """

    def decorate(function: F) -> F:
        if inspect.isasyncgenfunction(function):
            return _wrap_async_generator(function, client)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(function):
            return _wrap_coroutine(function, client)  # type: ignore[return-value]
        if inspect.isgeneratorfunction(function):
            return _wrap_generator(function, client)  # type: ignore[return-value]
        return _wrap_function(function, client)  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


def _link_from_transport(transport: object) -> ClientLink:
    """The client link behind a 0.2.0-style ``transport=client._transport`` argument."""
    import warnings

    from noukai_sdk._client import link_of_transport

    link = link_of_transport(transport)
    if link is None:
        raise TypeError(
            f"transport= must be the transport of a Noukai or AsyncNoukai client, got "
            f"{type(transport).__name__}; pass client=<your client> instead."
        )
    warnings.warn(
        "trace_scope(transport=client._transport) is deprecated; pass client=<your client>.",
        DeprecationWarning,
        stacklevel=4,
    )
    return link


def _capture_core(client: ScopeClient) -> _ScopeCore:
    """The scope ``@trace`` opens; a client of the wrong kind fails at its first request."""
    return _ScopeCore("@trace", {"client": client})


def _wrap_function(function: Callable[..., Any], client: ScopeClient) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if active_scope() is not None:
            return function(*args, **kwargs)
        with SyncScope(_capture_core(client)):
            return function(*args, **kwargs)

    return wrapper


def _wrap_coroutine(function: Callable[..., Any], client: ScopeClient) -> Callable[..., Any]:
    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if active_scope() is not None:
            return await function(*args, **kwargs)
        async with AsyncScope(_capture_core(client)):
            return await function(*args, **kwargs)

    return wrapper


def _wrap_generator(function: Callable[..., Any], client: ScopeClient) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        inner: Generator[Any, Any, Any] = function(*args, **kwargs)
        if active_scope() is not None:
            return (yield from inner)
        manager = SyncScope(_capture_core(client))
        scope = manager.open()
        body_failed = True
        try:
            result = yield from _generator_in_scope(scope, inner)
            body_failed = False
            return result
        finally:
            manager.close(scope, body_failed=body_failed)

    return wrapper


def _generator_in_scope(scope: Scope, inner: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
    """Delegate to ``inner``, with ``scope`` active only while ``inner``'s code runs."""
    to_send: Any = None
    to_throw: BaseException | None = None
    while True:
        token = enter_scope(scope)
        try:
            if to_throw is not None:
                error, to_throw = to_throw, None
                item = inner.throw(error)
            else:
                item = inner.send(to_send)
        except StopIteration as stop:
            return stop.value
        finally:
            exit_scope(token)
        try:
            to_send = yield item
        except GeneratorExit:
            token = enter_scope(scope)
            try:
                inner.close()
            finally:
                exit_scope(token)
            raise
        except BaseException as error:
            to_throw = error


def _wrap_async_generator(function: Callable[..., Any], client: ScopeClient) -> Callable[..., Any]:
    @functools.wraps(function)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        inner: AsyncGenerator[Any, Any] = function(*args, **kwargs)
        if active_scope() is not None:
            async for item in _async_generator_in_scope(None, inner):
                yield item
            return
        manager = AsyncScope(_capture_core(client))
        scope = await manager.open()
        body_failed = True
        try:
            async for item in _async_generator_in_scope(scope, inner):
                yield item
            body_failed = False
        finally:
            await manager.close(scope, body_failed=body_failed)

    return wrapper


async def _async_generator_in_scope(
    scope: Scope | None, inner: AsyncGenerator[Any, Any]
) -> AsyncGenerator[Any, Any]:
    """Delegate to ``inner``, with ``scope`` (if any) active only while its code runs."""
    to_send: Any = None
    to_throw: BaseException | None = None
    while True:
        token = enter_scope(scope) if scope is not None else None
        try:
            if to_throw is not None:
                error, to_throw = to_throw, None
                item = await inner.athrow(error)
            else:
                item = await inner.asend(to_send)
        except StopAsyncIteration:
            return
        finally:
            if token is not None:
                exit_scope(token)
        try:
            to_send = yield item
        except GeneratorExit:
            token = enter_scope(scope) if scope is not None else None
            try:
                await inner.aclose()
            finally:
                if token is not None:
                    exit_scope(token)
            raise
        except BaseException as error:
            to_throw = error


replay = trace
replay_scope = trace_scope
replay_scope_sync = trace_scope_sync
