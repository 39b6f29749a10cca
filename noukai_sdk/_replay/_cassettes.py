"""Cassettes: recorded sessions stored as JSON files, so replay needs no network at all.

A cassette is exactly the body of ``GET /seq/sessions/{id}`` (the ``SessionResponse`` format),
pretty-printed. :func:`export_session` writes one from the API (the ``noukai session export``
command calls it); ``trace_scope(record_to=...)`` writes one when a capture scope ends;
``trace_scope(cassette=...)``, the adapters' ``cassette_dir=`` and the pytest plugin read them.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Union

from noukai_sdk._client import client_link
from noukai_sdk._core.errors import NoukaiError, ReplaySessionNotFoundError
from noukai_sdk._replay._sessions import parse_session, replay_error, validate_session_id

if TYPE_CHECKING:
    from noukai_sdk._client import AsyncNoukai, Noukai
    from noukai_sdk._core.effects import Steps
    from noukai_sdk._core.requesting import RequestContext
    from noukai_sdk_generated.models import SessionResponse

PathLike = Union[str, "os.PathLike[str]"]


def load_cassette(path: PathLike) -> SessionResponse:
    """Read and validate a cassette file; a missing file is a ``ReplaySessionNotFoundError``."""
    location = Path(path)
    try:
        content = location.read_bytes()
    except FileNotFoundError as exc:
        raise ReplaySessionNotFoundError(
            f"Cassette file '{location}' does not exist", status_code=404
        ) from exc
    return parse_session(content, source=f"Cassette file '{location}'")


def cassette_path(directory: PathLike, session_id: str) -> Path:
    """Where ``cassette_dir=`` keeps the cassette of ``session_id`` (validated as a UUID first)."""
    return Path(directory) / f"{validate_session_id(session_id).lower()}.json"


def write_cassette(path: PathLike, content: bytes) -> Path:
    """Validate a session body and write it, pretty-printed, atomically replacing ``path``."""
    location = Path(path)
    parse_session(content, source="The session to record")
    text = json.dumps(json.loads(content), indent=2, ensure_ascii=False) + "\n"
    location.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=location.parent, prefix=f".{location.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, location)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return location


def record_session(session_id: str, path: PathLike, ctx: RequestContext) -> Steps[Path]:
    """Fetch ``session_id`` fresh (no cache) and write it to ``path`` as a cassette."""
    from noukai_sdk._core.paths import session_request
    from noukai_sdk._core.requesting import send_with_retries

    validate_session_id(session_id)
    try:
        response = yield from send_with_retries(session_request(session_id), ctx)
    except NoukaiError as error:
        raise replay_error(session_id, error) from error
    return write_cassette(path, response.content)


def export_session(client: Noukai, session_id: str, path: PathLike) -> Path:
    """Write the recorded session ``session_id`` to the cassette file ``path`` (``Noukai``)."""
    link = client_link(client)
    return link.run(record_session(session_id, path, link.context))


async def aexport_session(client: AsyncNoukai, session_id: str, path: PathLike) -> Path:
    """Write the recorded session ``session_id`` to the cassette file ``path`` (``AsyncNoukai``)."""
    link = client_link(client)
    return await link.run(record_session(session_id, path, link.context))
