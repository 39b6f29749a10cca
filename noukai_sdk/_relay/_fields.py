"""Which body fields a relay forwards: an allow-list over every spelling the server accepts.

The API reads an ``/execute`` body field under its wire name (``toolCallMessages``) and under its
Python name (``tool_call_messages``), so the relay maps both spellings to one field before
deciding anything, and forwards the survivors under their wire names only. A browser may always
send the message(s); a resume's own fields are forwarded only for a resume (and only with a valid
resume token, checked later); every other field needs the app's ``allow=``. A field the relay
does not forward is refused with 400 naming it, unless it carries the server's own default value
(``parameters: {}``, ``trace: false``, ``null``...), which changes nothing and is what
``RelayFlow`` always sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from noukai_sdk_generated.models import ExecuteRequest

ALWAYS_FORWARDED = ("message", "messages")
OPT_IN_FIELDS = ("parameters", "block_overrides", "tools", "tool_choice", "attachments", "trace")
RESUME_FIELDS = (
    "execution_id",
    "paused_at_step",
    "iterations_used",
    "tool_call_messages",
    "accumulated_outputs",
)
COUNTED_FIELDS = ("messages", "tool_call_messages")
RESUME_TOKEN_FIELD = "relayToken"
"""The relay's own field: added to paused replies, read from resumes, never forwarded."""

FIELD_NOT_ALLOWED = "FIELD_NOT_ALLOWED"
DUPLICATE_FIELD = "DUPLICATE_FIELD"
TOO_MANY_MESSAGES = "TOO_MANY_MESSAGES"

_WIRE = {name: info.alias or name for name, info in ExecuteRequest.model_fields.items()}
_BY_SPELLING = {spelling: name for name, wire in _WIRE.items() for spelling in (name, wire)}
_DEFAULTS = {
    name: info.get_default(call_default_factory=True)
    for name, info in ExecuteRequest.model_fields.items()
}


def wire_name(name: str) -> str:
    """The camelCase name the API documents for the field ``name`` (a Python name)."""
    return _WIRE[name]


def relay_allow(allow: Iterable[str] | None) -> frozenset[str]:
    """``allow=`` as Python field names; either spelling is accepted, anything else is a ValueError."""
    if allow is None:
        return frozenset()
    if isinstance(allow, str):
        raise TypeError(f"allow= must be a collection of field names, e.g. {{{allow!r}}}")
    names: set[str] = set()
    for spelling in allow:
        given = cast("object", spelling)
        name = _BY_SPELLING.get(given) if isinstance(given, str) else None
        if name not in OPT_IN_FIELDS:
            choices = ", ".join(wire_name(n) for n in OPT_IN_FIELDS)
            raise ValueError(
                f"allow= accepts {choices} (or their snake_case names); got {spelling!r}"
            )
        names.add(name)
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class FieldRefusal:
    """A body the relay will not forward: the detail code and the field as the caller spelled it."""

    detail: str
    field: str


@dataclass(frozen=True, slots=True)
class ScreenedBody:
    """A body after the allow-list: what to forward (wire names) and the resume token, if any."""

    forward: dict[str, Any]
    resume_token: object = None

    @property
    def is_resume(self) -> bool:
        """The server treats a body with an ``executionId`` as the resume of that execution."""
        return self.forward.get(wire_name("execution_id")) is not None


def screen_fields(
    payload: Mapping[str, Any], allowed: frozenset[str], max_messages: int
) -> ScreenedBody | FieldRefusal:
    """Apply the allow-list and the message caps to a parsed body (see the module docstring)."""
    fields: dict[str, tuple[str, Any]] = {}
    token: object = None
    for spelling, value in payload.items():
        if spelling == RESUME_TOKEN_FIELD:
            token = value
            continue
        name = _BY_SPELLING.get(spelling)
        if name is None:
            return FieldRefusal(FIELD_NOT_ALLOWED, spelling)
        if name in fields:
            return FieldRefusal(DUPLICATE_FIELD, spelling)
        fields[name] = (spelling, value)
    for name in COUNTED_FIELDS:
        entries = fields.get(name, (None, None))[1]
        if isinstance(entries, list) and len(cast("list[object]", entries)) > max_messages:
            return FieldRefusal(TOO_MANY_MESSAGES, fields[name][0])
    execution_id = fields.get("execution_id", (None, None))[1]
    resuming = execution_id is not None
    forward: dict[str, Any] = {}
    for name, (spelling, value) in fields.items():
        if name in ALWAYS_FORWARDED or name in allowed or (resuming and name in RESUME_FIELDS):
            forward[wire_name(name)] = value
        elif not _is_default(name, value):
            return FieldRefusal(FIELD_NOT_ALLOWED, spelling)
    return ScreenedBody(forward, token)


def _is_default(name: str, value: object) -> bool:
    default = _DEFAULTS[name]
    # ``0 == False`` in Python; a default only counts when the JSON type matches too.
    return value is None or (type(value) is type(default) and value == default)
