"""``RelayFlow``'s side of resume tokens: keep the token of each paused reply, send it back.

A relay adds ``relayToken`` to every paused reply and forwards a resume only with it. The SDK's
execute protocol knows nothing of relays, so :func:`carrying_resume_tokens` wraps it: it reads
the token out of each paused reply, and adds it to the resume of that same pause (same
execution id, step and iteration count), whether the tool loop or a manual ``resume`` sends it.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import replace
from typing import Any, TypeVar, cast

from noukai_sdk._core.effects import Effect, SendRequest, Steps
from noukai_sdk._core.http_types import HttpRequest, HttpResponse
from noukai_sdk._relay._fields import RESUME_TOKEN_FIELD, wire_name

T = TypeVar("T")

MAX_REMEMBERED_PAUSES = 256
"""Tokens kept per ``RelayFlow``; the oldest pause is forgotten first."""

_PAUSE_KEY_FIELDS = tuple(
    wire_name(name) for name in ("execution_id", "paused_at_step", "iterations_used")
)
_TOKEN_MARKER = f'"{RESUME_TOKEN_FIELD}"'.encode()

PauseKey = tuple[object, ...]


def _pause_key(body: dict[str, Any]) -> PauseKey:
    return tuple(body.get(name) for name in _PAUSE_KEY_FIELDS)


class ResumeTokens:
    """The tokens of the pauses one ``RelayFlow`` has seen, by (execution id, step, iterations)."""

    __slots__ = ("_by_pause",)

    def __init__(self) -> None:
        self._by_pause: OrderedDict[PauseKey, str] = OrderedDict()

    def remember(self, response: HttpResponse) -> None:
        """Keep the token of a paused reply (other replies are left alone, unparsed)."""
        if _TOKEN_MARKER not in response.content:
            return
        try:
            body: object = json.loads(response.content)
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        reply = cast("dict[str, Any]", body)
        token = reply.get(RESUME_TOKEN_FIELD)
        if isinstance(token, str):
            key = _pause_key(reply)
            self._by_pause[key] = token
            self._by_pause.move_to_end(key)
            while len(self._by_pause) > MAX_REMEMBERED_PAUSES:
                self._by_pause.popitem(last=False)

    def attach(self, request: HttpRequest) -> HttpRequest:
        """``request`` with the token of the pause it resumes, when there is one."""
        body: object = request.json
        if not isinstance(body, dict):
            return request
        resume = cast("dict[str, Any]", body)
        token = self._by_pause.get(_pause_key(resume))
        if token is None:
            return request
        return replace(request, json={**resume, RESUME_TOKEN_FIELD: token})


def carrying_resume_tokens(protocol: Steps[T], tokens: ResumeTokens) -> Steps[T]:
    """``protocol`` with resume tokens taken from its replies and added to its resumes."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect: Effect = protocol.throw(error) if error is not None else protocol.send(value)
        except StopIteration as stop:
            result: T = stop.value
            return result
        if isinstance(effect, SendRequest):
            effect = SendRequest(tokens.attach(effect.request))
        try:
            value, error = (yield effect), None
        except GeneratorExit:
            protocol.close()
            raise
        except BaseException as failure:  # the effect failed: the protocol decides, as unwrapped
            value, error = None, failure
            continue
        if isinstance(effect, SendRequest):
            tokens.remember(cast("HttpResponse", value))
