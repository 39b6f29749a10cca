"""Getting a recorded session: the gate, id validation, the retried GET, errors, parsing, caching.

Replay happens only where ``NOUKAI_REPLAY_ENABLED`` switches it on (:func:`replay_enabled`).

``fetch_session`` is a sans-IO protocol (it yields through ``send_with_retries``), so the sync and
async scopes share it. Replay-specific statuses become replay errors that keep the HTTP error's
``code``, ``request_id`` and body; a body that does not fit ``SessionResponse`` becomes a
:class:`ReplayInvalidSessionError` (the documented class, carrying the raw payload), never a bare
pydantic error. Sessions are cached per client in a small LRU so that replaying many requests of one session fetches it once.
"""

from __future__ import annotations

import os
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from noukai_sdk._core.errors import (
    NoukaiError,
    ReplayError,
    ReplayForbiddenError,
    ReplayInvalidSessionError,
    ReplaySessionExpiredError,
    ReplaySessionNotFoundError,
)
from noukai_sdk._core.paths import session_request

if TYPE_CHECKING:
    from noukai_sdk._core.effects import Steps
    from noukai_sdk._core.requesting import RequestContext
    from noukai_sdk_generated.models import SessionResponse

# Replay serves recorded model outputs instead of calling the flow, so a production service must
# never enter it because a request header asked for it: the gate is read at every scope entry.
GATE_VARIABLE = "NOUKAI_REPLAY_ENABLED"
_TRUE_VALUES = frozenset({"1", "true", "yes", "on"})


def replay_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``NOUKAI_REPLAY_ENABLED`` is one of ``1``/``true``/``yes``/``on`` (any case)."""
    value = (os.environ if environ is None else environ).get(GATE_VARIABLE, "")
    return value.lower() in _TRUE_VALUES


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
CACHE_SIZE = 32


def validate_session_id(session_id: object) -> str:
    """Return ``session_id`` if it is a canonical UUID, else raise (no request is made)."""
    if isinstance(session_id, str) and _UUID.fullmatch(session_id):
        return session_id
    raise ReplayInvalidSessionError(
        f"Invalid session id '{session_id}': Invalid session id format (expected UUID): "
        f"'{session_id}' (expected a UUID: 8-4-4-4-12 hexadecimal digits)",
        status_code=400,
    )


def parse_session(content: bytes | str, *, source: str) -> SessionResponse:
    """Validate a session payload; ``source`` names where it came from for the error message."""
    from pydantic import ValidationError

    from noukai_sdk_generated.models import SessionResponse

    try:
        return SessionResponse.model_validate_json(content)
    except ValidationError as exc:
        problem = exc.errors(include_url=False, include_input=False)
        where = ".".join(str(part) for part in problem[0]["loc"]) if problem else ""
        what = problem[0]["msg"] if problem else "invalid"
        raw = content.encode() if isinstance(content, str) else content
        raise ReplayInvalidSessionError(
            f"{source} is not a valid session: {where or 'body'}: {what}",
            raw_body=raw,
        ) from exc


def fetch_session(session_id: str, ctx: RequestContext) -> Steps[SessionResponse]:
    """``GET /seq/sessions/{id}`` (retried as a GET) mapped to replay errors and parsed."""
    from noukai_sdk._core.requesting import send_with_retries

    validate_session_id(session_id)
    try:
        response = yield from send_with_retries(session_request(session_id), ctx)
    except NoukaiError as error:
        raise replay_error(session_id, error) from error
    try:
        session = parse_session(response.content, source=f"The session '{session_id}' response")
    except ReplayInvalidSessionError as error:
        error.status_code = response.status_code
        error.request_id = response.request_id
        raise
    return session


def replay_error(session_id: str, error: NoukaiError) -> NoukaiError:
    """The replay error for a failed fetch, keeping code, request id and body."""
    cls: type[ReplayError]
    if error.status_code == 400:
        cls, message = ReplayInvalidSessionError, f"Invalid session id '{session_id}': {error}"
    elif error.status_code == 403:
        cls, message = ReplayForbiddenError, f"Replay forbidden for session '{session_id}': {error}"
    elif error.status_code == 404:
        cls, message = ReplaySessionNotFoundError, f"No session found for id '{session_id}'"
    elif error.status_code == 410:
        cls, message = ReplaySessionExpiredError, f"Session '{session_id}' has expired"
    else:
        return error
    return cls(
        message,
        status_code=error.status_code,
        code=error.code,
        request_id=error.request_id,
        response_body=error.response_body,
    )


class SessionCache:
    """A small thread-safe LRU of fetched sessions, keyed by session id."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[str, SessionResponse] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str) -> SessionResponse | None:
        with self._lock:
            session = self._items.get(session_id)
            if session is not None:
                self._items.move_to_end(session_id)
            return session

    def put(self, session_id: str, session: SessionResponse) -> None:
        with self._lock:
            self._items[session_id] = session
            self._items.move_to_end(session_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


_caches: weakref.WeakKeyDictionary[Any, SessionCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_for(client: object) -> SessionCache:
    """The session cache of ``client`` (created on first use, dropped with the client)."""
    with _caches_lock:
        cache = _caches.get(client)
        if cache is None:
            cache = _caches[client] = SessionCache()
        return cache


def cached_fetch(
    session_id: str, ctx: RequestContext, cache: SessionCache
) -> Steps[SessionResponse]:
    """:func:`fetch_session` through ``cache``."""
    validate_session_id(session_id)
    session = cache.get(session_id)
    if session is None:
        session = yield from fetch_session(session_id, ctx)
        cache.put(session_id, session)
    return session
