"""``init_noukai_trace``: a capture or replay scope around every Flask request.

The scope opens in ``before_request`` and closes in ``after_request``, so a leftover check
failure can still change the response (a JSON 500) instead of escaping from teardown after the
response was built; teardown only cleans up requests that never reached ``after_request``
and never raises. Replay errors raised by views (misses) get the same JSON responses. Every
response, error responses included, carries ``X-Noukai-Session`` (overwritten, not appended).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from typing import TYPE_CHECKING

from noukai_sdk._core.errors import ReplayError
from noukai_sdk._core.scope import Scope, enter_scope, exit_scope
from noukai_sdk._replay._scopes import SyncScope, trace_scope_sync
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
    from contextvars import Token

    from flask import Flask
    from flask.wrappers import Response

    from noukai_sdk._client import Noukai
    from noukai_sdk._replay._cassettes import PathLike

_STATE = "_noukai_trace"


class _RequestScope:
    """The scope of one Flask request and whether it has been closed yet."""

    def __init__(self, manager: SyncScope, trace: Scope, token: Token[Scope | None]) -> None:
        self.manager = manager
        self.trace = trace
        self.token: Token[Scope | None] | None = token
        self.view_failed = False

    def close(self, *, body_failed: bool) -> None:
        """Leave the context and close the scope once; may raise a ReplayError (leftovers)."""
        token, self.token = self.token, None
        if token is None:
            return
        with contextlib.suppress(ValueError):  # a reset from another context; Flask keeps one
            exit_scope(token)
        self.manager.close(self.trace, body_failed=body_failed)


def init_noukai_trace(
    app: Flask,
    *,
    client: Noukai,
    exclude_paths: Collection[str] = (),
    cassette_dir: PathLike | None = None,
) -> None:
    """Open a trace scope per request of ``app``; ``client`` must be the sync ``Noukai``.

    ``exclude_paths`` (e.g. ``["/health"]``) get no scope and no header. With ``cassette_dir``,
    replayed sessions are read from ``<cassette_dir>/<session id>.json`` instead of the API.
    """
    try:
        from flask import g, jsonify, request
    except ImportError as exc:
        raise ImportError(
            "init_noukai_trace requires Flask. Install with `pip install flask`."
        ) from exc
    from noukai_sdk._client import Noukai

    check_client(
        client,
        expected=Noukai,
        adapter="init_noukai_trace",
        hint="Flask views are blocking, so they use the sync client",
    )
    excluded = tuple(exclude_paths)

    def error_json(error: ReplayError) -> Response:
        status, body = error_response(error)
        response = jsonify(body)
        response.status_code = status
        return response

    def open_scope() -> Response | None:
        if is_excluded(request.path, excluded):
            return None
        header = request.headers.get(REPLAY_HEADER)
        try:
            wanted = scope_request(header, cassette_dir=cassette_dir)
            manager = trace_scope_sync(
                client=client,
                replay_session_id=wanted.replay_session_id,
                cassette=wanted.cassette,
            )
            trace = manager.open()
        except ReplayError as error:
            response = error_json(error)
            session_id = echoable_session_id(header)
            if session_id:
                response.headers[SESSION_HEADER] = session_id
            return response
        setattr(g, _STATE, _RequestScope(manager, trace, enter_scope(trace)))
        return None

    def view_replay_error(error: ReplayError) -> Response:
        state: _RequestScope | None = getattr(g, _STATE, None)
        if state is not None:
            state.view_failed = True
        return error_json(error)

    def close_scope(response: Response) -> Response:
        state: _RequestScope | None = getattr(g, _STATE, None)
        if state is None:
            return response
        failed = state.view_failed or response.status_code >= 500
        try:
            state.close(body_failed=failed)
        except ReplayError as error:
            response = error_json(error)
        if state.trace.session_id:
            response.headers[SESSION_HEADER] = state.trace.session_id
        return response

    def clean_up(exc: BaseException | None) -> None:
        state: _RequestScope | None = getattr(g, _STATE, None)
        if state is None:
            return
        try:
            state.close(body_failed=True)
        except Exception:
            logger.exception("Closing the Noukai trace scope of a failed request raised")

    app.before_request(open_scope)
    app.register_error_handler(ReplayError, view_replay_error)
    app.after_request(close_scope)
    app.teardown_request(clean_up)
