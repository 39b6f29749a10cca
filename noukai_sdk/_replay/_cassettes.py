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
from noukai_sdk._core.errors import (
    NoukaiError,
    ReplayInvalidSessionError,
    ReplaySessionNotFoundError,
)
from noukai_sdk._replay._sessions import parse_session, replay_error, validate_session_id

if TYPE_CHECKING:
    from noukai_sdk._client import AsyncNoukai, Noukai
    from noukai_sdk._core.effects import Steps
    from noukai_sdk._core.requesting import RequestContext
    from noukai_sdk_generated.models import SessionResponse

PathLike = Union[str, "os.PathLike[str]"]


DEFAULT_MAX_CASSETTE_BYTES = 64 * 1024 * 1024
MAX_CASSETTE_BYTES_ENV = "NOUKAI_CASSETTE_MAX_BYTES"


def max_cassette_bytes() -> int:
    """The size cap of a cassette file: ``NOUKAI_CASSETTE_MAX_BYTES``, else 64 MiB."""
    configured = os.environ.get(MAX_CASSETTE_BYTES_ENV, "").strip()
    if not configured:
        return DEFAULT_MAX_CASSETTE_BYTES
    try:
        value = int(configured)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(
            f"{MAX_CASSETTE_BYTES_ENV} must be a positive number of bytes, got {configured!r}"
        )
    return value


def load_cassette(path: PathLike, *, max_bytes: int | None = None) -> SessionResponse:
    """Read and validate a cassette file.

    A missing file is a ``ReplaySessionNotFoundError``; a directory, an unreadable file, a file
    above the size cap (``max_bytes``, default :func:`max_cassette_bytes`) or one whose session
    id is not a UUID is a ``ReplayInvalidSessionError`` naming the problem. The cap keeps a stray
    multi-gigabyte file from being read into memory whole.
    """
    location = Path(path)
    limit = max_cassette_bytes() if max_bytes is None else max_bytes
    try:
        if location.is_dir():
            raise ReplayInvalidSessionError(
                f"Cassette path '{location}' is a directory; give the cassette file itself "
                "(a folder of cassettes named by session id is the adapters' cassette_dir=).",
                status_code=400,
            )
        size = location.stat().st_size
        if size > limit:
            raise ReplayInvalidSessionError(
                f"Cassette file '{location}' is {size:,} bytes, above the {limit:,}-byte cap "
                f"(set {MAX_CASSETTE_BYTES_ENV} or pass max_bytes= to allow more).",
                status_code=400,
            )
        with location.open("rb") as stream:
            content = stream.read(limit + 1)
    except FileNotFoundError as exc:
        raise ReplaySessionNotFoundError(
            f"Cassette file '{location}' does not exist", status_code=404
        ) from exc
    except OSError as exc:
        raise ReplayInvalidSessionError(
            f"Cassette file '{location}' cannot be read: {exc.strerror or exc}", status_code=400
        ) from exc
    if len(content) > limit:  # grew while being read
        raise ReplayInvalidSessionError(
            f"Cassette file '{location}' is above the {limit:,}-byte cap.", status_code=400
        )
    session = parse_session(content, source=f"Cassette file '{location}'")
    try:
        validate_session_id(session.session_id)
    except ReplayInvalidSessionError as exc:
        raise ReplayInvalidSessionError(
            f"Cassette file '{location}' records session {session.session_id!r}, which is not a "
            "UUID; cassettes hold sessions as the API returns them.",
            status_code=400,
        ) from exc
    return session


def cassette_path(directory: PathLike, session_id: str) -> Path:
    """Where ``cassette_dir=`` keeps the cassette of ``session_id`` (validated as a UUID first)."""
    return Path(directory) / f"{validate_session_id(session_id).lower()}.json"


def write_cassette(path: PathLike, content: bytes) -> Path:
    """Validate a session body and write it, pretty-printed, atomically replacing ``path``."""
    location = Path(path)
    if location.is_dir():
        raise ValueError(
            f"Cassette path '{location}' is a directory; give a file name, e.g. "
            f"'{location / 'session.json'}'."
        )
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
