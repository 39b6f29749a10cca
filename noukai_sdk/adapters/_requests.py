"""What both adapters decide per request: skip it, capture it, or replay it; and error bodies.

``X-Noukai-Replay`` is honoured only when the replay gate is on; otherwise it is ignored silently
(a production service must never let a header switch it into replay). Replay errors become small
JSON responses with the status each replay error maps to.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noukai_sdk._core.errors import (
    ReplayError,
    ReplayForbiddenError,
    ReplayInvalidSessionError,
    ReplayNoSnapshotsError,
    ReplaySessionExpiredError,
    ReplaySessionNotFoundError,
)
from noukai_sdk._replay._cassettes import PathLike, cassette_path
from noukai_sdk._replay._sessions import replay_enabled, validate_session_id

REPLAY_HEADER = "X-Noukai-Replay"
SESSION_HEADER = "X-Noukai-Session"

logger = logging.getLogger("noukai_sdk.adapters")

_ERROR_RESPONSES: tuple[tuple[type[ReplayError], int, str], ...] = (
    (ReplayForbiddenError, 403, "replay_forbidden"),
    (ReplaySessionNotFoundError, 404, "replay_session_not_found"),
    (ReplaySessionExpiredError, 410, "replay_session_expired"),
    (ReplayInvalidSessionError, 400, "replay_invalid_session"),
    (ReplayNoSnapshotsError, 409, "replay_no_snapshots"),
)


@dataclass(frozen=True, slots=True)
class ScopeRequest:
    """The arguments of the request's scope: a replay id and/or cassette file, or capture."""

    replay_session_id: str | None
    cassette: Path | None


def is_excluded(path: str, exclude_paths: Collection[str]) -> bool:
    """True for a path listed in ``exclude_paths`` or below one (``/static`` covers ``/static/x``)."""
    for excluded in exclude_paths:
        if path == excluded or path.startswith(excluded.rstrip("/") + "/"):
            return True
    return False


def scope_request(header_value: str | None, *, cassette_dir: PathLike | None) -> ScopeRequest:
    """Replay the header's session (from ``cassette_dir`` if given) when the gate is on."""
    if not header_value or not replay_enabled():
        return ScopeRequest(None, None)
    if cassette_dir is None:
        return ScopeRequest(header_value, None)
    return ScopeRequest(header_value, cassette_path(cassette_dir, header_value))


def error_response(error: ReplayError) -> tuple[int, dict[str, Any]]:
    """Status and JSON body for a replay error (the documented status per error; others are 500)."""
    for error_class, status, key in _ERROR_RESPONSES:
        if isinstance(error, error_class):
            return status, {"error": key, "message": error.message}
    return 500, {"error": "replay_error", "message": error.message}


def echoable_session_id(header_value: str | None) -> str | None:
    """The requested replay id, if it is a UUID (safe to echo in ``X-Noukai-Session``)."""
    if not header_value or not replay_enabled():
        return None
    try:
        return validate_session_id(header_value)
    except ReplayInvalidSessionError:
        return None


def check_client(client: object, *, expected: type[object], adapter: str, hint: str) -> None:
    """Fail at registration, not at the first replayed request, when the client kind is wrong."""
    if not isinstance(client, expected):
        raise TypeError(
            f"{adapter} needs client={expected.__name__}(...) ({hint}); got {client!r}."
        )
