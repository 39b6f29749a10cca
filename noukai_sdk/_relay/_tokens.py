"""Resume tokens: proof that a resume answers a pause this relay itself handed out.

Every relay route shares one API key, so the API cannot tell one browser's execution from
another's. The relay therefore signs each paused reply (HMAC-SHA256 with its secret) over the
route, the execution id, the paused step, the tool-iteration counter, an expiry, and digests of
the outputs so far and of the pause's conversation. A resume is forwarded only when its token
matches all of them and the messages after that conversation are tool results, so a caller can
neither resume someone else's execution nor rewrite the state it sends back.

Token: ``v1.<expires, unix seconds>.<conversation length>.<base64url MAC>``. It proves origin,
not single use: once the execution moved on, the API itself refuses a second resume of a pause.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from noukai_sdk._relay._fields import wire_name

DEFAULT_RESUME_TTL = 3600.0
MIN_SECRET_BYTES = 32
_VERSION = "v1"
_EXECUTION_ID = wire_name("execution_id")
_PAUSED_AT_STEP = wire_name("paused_at_step")
_ITERATIONS = wire_name("iterations_used")
_CONVERSATION = wire_name("tool_call_messages")
_OUTPUTS = wire_name("accumulated_outputs")
_MAX_NUMBER_DIGITS = 20


def relay_secret(secret: str | bytes | None) -> bytes:
    """The signing key: the app's (shared by every worker), or a random one for this process."""
    if secret is None:
        return secrets.token_bytes(MIN_SECRET_BYTES)
    given = cast("object", secret)
    if isinstance(given, str):
        given = given.encode("utf-8")
    if not isinstance(given, bytes):
        raise TypeError(f"secret= must be str or bytes, got {type(secret).__name__}")
    if len(given) < MIN_SECRET_BYTES:
        raise ValueError(
            f"secret= must be at least {MIN_SECRET_BYTES} bytes; "
            "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    return given


def validate_resume_ttl(ttl: float) -> float:
    """How long a paused reply stays resumable through the relay: a positive number of seconds."""
    given = cast("object", ttl)
    if isinstance(given, bool) or not isinstance(given, (int, float)) or not 0 < given < math.inf:
        raise ValueError(f"resume_ttl must be a positive, finite number of seconds, got {ttl!r}")
    return float(given)


@dataclass(frozen=True, slots=True)
class _PauseState:
    execution_id: str
    paused_at_step: str
    iterations_used: int
    conversation: list[object]
    outputs: dict[str, Any]


def _pause_state(body: Mapping[str, Any]) -> _PauseState | None:
    """The signed parts of a paused reply or a resume body (wire names); ``None`` when malformed."""
    execution_id = body.get(_EXECUTION_ID)
    step = body.get(_PAUSED_AT_STEP)
    iterations = body.get(_ITERATIONS, 0)
    conversation: object = body.get(_CONVERSATION, [])
    outputs: object = body.get(_OUTPUTS, {})
    if not (isinstance(execution_id, str) and isinstance(step, str)):
        return None
    if isinstance(iterations, bool) or not isinstance(iterations, int):
        return None
    if not isinstance(conversation, list) or not isinstance(outputs, dict):
        return None
    return _PauseState(
        execution_id,
        step,
        iterations,
        cast("list[object]", conversation),
        cast("dict[str, Any]", outputs),
    )


def _digest(value: object) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ResumeSigner:
    """Issues and checks the resume tokens of one relay route."""

    secret: bytes = field(repr=False)
    route: str
    ttl: float = DEFAULT_RESUME_TTL
    clock: Callable[[], float] = time.time

    def issue(self, paused: Mapping[str, Any]) -> str | None:
        """The token for an upstream paused reply, or ``None`` when the reply is malformed."""
        state = _pause_state(paused)
        if state is None:
            return None
        expires = math.ceil(self.clock() + self.ttl)
        length = len(state.conversation)
        return f"{_VERSION}.{expires}.{length}.{self._mac(state, expires, length)}"

    def accepts(self, token: object, resume: Mapping[str, Any]) -> bool:
        """Whether ``resume`` (a screened body, wire names) answers the pause ``token`` was issued for."""
        state = _pause_state(resume)
        if state is None or not isinstance(token, str):
            return False
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != _VERSION:
            return False
        expires, length = _number(parts[1]), _number(parts[2])
        if expires is None or length is None or length > len(state.conversation):
            return False
        expected = self._mac(state, expires, length)
        if not hmac.compare_digest(parts[3].encode("ascii", "replace"), expected.encode("ascii")):
            return False
        if expires < self.clock():
            return False
        # After the pause's own conversation only tool results may follow: no injected turns.
        return all(_is_tool_result(message) for message in state.conversation[length:])

    def _mac(self, state: _PauseState, expires: int, length: int) -> str:
        signed = json.dumps(
            [
                _VERSION,
                self.route,
                state.execution_id,
                state.paused_at_step,
                state.iterations_used,
                expires,
                length,
                _digest(state.outputs),
                _digest(state.conversation[:length]),
            ],
            separators=(",", ":"),
        )
        mac = hmac.new(self.secret, signed.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def _number(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_NUMBER_DIGITS:
        return None
    return int(text)


def _is_tool_result(message: object) -> bool:
    return isinstance(message, dict) and cast("dict[str, Any]", message).get("role") == "tool"
