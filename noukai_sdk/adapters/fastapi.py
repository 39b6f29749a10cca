"""``NoukaiTraceMiddleware``: a capture or replay scope around every HTTP request (ASGI).

Register it with ``app.add_middleware(NoukaiTraceMiddleware, client=AsyncNoukai(...))``. It is a
pure ASGI middleware, so streaming responses pass through untouched. Every response sent through
it, the app's error responses and the replay-error responses included, carries
``X-Noukai-Session`` (replacing any value the app set); only the 500 that Starlette's outermost
error handler sends for an unhandled exception bypasses it (and so has no header). Replay
errors raised before the response starts become JSON responses; one raised after
it started (typically leftovers at scope exit) is logged and the response is ended cleanly, never
with a second ``http.response.start``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import TYPE_CHECKING, Any

from noukai_sdk._core.errors import ReplayError
from noukai_sdk._core.scope import Scope, enter_scope, exit_scope
from noukai_sdk._replay._cassettes import PathLike
from noukai_sdk._replay._scopes import trace_scope
from noukai_sdk.adapters._requests import (
    REPLAY_HEADER,
    SESSION_HEADER,
    check_client,
    echoable_session_id,
    error_response,
    is_excluded,
    logger,
    scope_request,
)

if TYPE_CHECKING:
    from noukai_sdk._client import AsyncNoukai

ASGIScope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[ASGIScope, Receive, Send], Awaitable[None]]

_REPLAY_HEADER = REPLAY_HEADER.lower().encode("latin-1")
_SESSION_HEADER = SESSION_HEADER.lower().encode("latin-1")


def _require_starlette() -> None:
    try:
        import starlette  # noqa: F401  # pyright: ignore[reportUnusedImport]
    except ImportError as exc:
        raise ImportError(
            "NoukaiTraceMiddleware requires Starlette/FastAPI. Install with `pip install "
            "starlette` or `pip install fastapi`."
        ) from exc


class NoukaiTraceMiddleware:
    """Open a trace scope per HTTP request; replay when ``X-Noukai-Replay`` and the gate say so.

    ``client`` must be an ``AsyncNoukai``. ``exclude_paths`` (e.g. ``["/health"]``) get no scope
    and no header. With ``cassette_dir``, replayed sessions are read from
    ``<cassette_dir>/<session id>.json`` instead of the API.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        client: AsyncNoukai,
        exclude_paths: Collection[str] = (),
        cassette_dir: PathLike | None = None,
    ) -> None:
        _require_starlette()
        from noukai_sdk._client import AsyncNoukai

        check_client(
            client,
            expected=AsyncNoukai,
            adapter="NoukaiTraceMiddleware",
            hint="ASGI apps fetch sessions with the asyncio client",
        )
        self.app = app
        self.client = client
        self.exclude_paths = tuple(exclude_paths)
        self.cassette_dir = cassette_dir

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_excluded(scope.get("path", ""), self.exclude_paths):
            await self.app(scope, receive, send)
            return
        header = _replay_header(scope)
        try:
            request = scope_request(header, cassette_dir=self.cassette_dir)
            manager = trace_scope(
                client=self.client,
                replay_session_id=request.replay_session_id,
                cassette=request.cassette,
            )
            trace = await manager.open()
        except ReplayError as error:
            await _send_error(send, error, session_id=echoable_session_id(header))
            return
        await _Request(self.app, manager_close=manager.close, trace=trace).run(scope, receive, send)


class _Request:
    """One request inside an entered scope: header injection, error mapping, clean exit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        manager_close: Callable[..., Awaitable[None]],
        trace: Scope,
    ) -> None:
        self.app = app
        self.close = manager_close
        self.trace = trace
        self.started = False
        self.finished = False

    async def run(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.started = True
                message = _with_session_header(message, self.trace.session_id)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                self.finished = True
            await send(message)

        token = enter_scope(self.trace)
        try:
            await self.app(scope, receive, send_with_session)
        except ReplayError as error:
            exit_scope(token)
            await self.close(self.trace, body_failed=True)
            await self._report(send, error)
            return
        except BaseException:
            exit_scope(token)
            await self.close(self.trace, body_failed=True)
            raise
        exit_scope(token)
        try:
            await self.close(self.trace, body_failed=False)
        except ReplayError as error:
            await self._report(send, error)

    async def _report(self, send: Send, error: ReplayError) -> None:
        if not self.started:
            await _send_error(send, error, session_id=self.trace.session_id)
            return
        logger.error(
            "Replay error after the response to this request had started (session %s): %s",
            self.trace.session_id,
            error,
        )
        if not self.finished:
            self.finished = True
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def _replay_header(scope: ASGIScope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == _REPLAY_HEADER:
            text: str = value.decode("latin-1").strip()
            return text
    return None


def _with_session_header(message: Message, session_id: str | None) -> Message:
    if not session_id:
        return message
    headers = [
        (name, value)
        for name, value in message.get("headers", ())
        if name.lower() != _SESSION_HEADER
    ]
    headers.append((_SESSION_HEADER, session_id.encode("latin-1")))
    return {**message, "headers": headers}


async def _send_error(send: Send, error: ReplayError, *, session_id: str | None) -> None:
    status, body = error_response(error)
    content = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode("latin-1")),
    ]
    if session_id:
        headers.append((_SESSION_HEADER, session_id.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content, "more_body": False})
