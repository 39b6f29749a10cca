"""The inbound W3C trace context a relay forwards, checked against the W3C format and bounds.

A ``traceparent`` that is not ``<version>-<32 hex trace id>-<16 hex parent id>-<2 hex flags>``
(lowercase, ids not all zero, version not ``ff``) is dropped together with its ``tracestate``:
W3C Trace Context tells a receiver to ignore an invalid trace context and start a new trace,
rather than fail the request. A ``tracestate`` over 512 characters or 32 members, or with
characters outside printable ASCII, is dropped (the ``traceparent`` still goes through), as W3C
lets a receiver discard a state it will not propagate.
"""

from __future__ import annotations

import re
from typing import Protocol

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
TRACE_CONTEXT_HEADERS = (TRACEPARENT, TRACESTATE)
"""The only inbound headers a relay forwards upstream (W3C trace context)."""

MAX_TRACESTATE_CHARS = 512
MAX_TRACESTATE_MEMBERS = 32
_TRACEPARENT_FORMAT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")


class HeaderLookup(Protocol):
    """Case-insensitive inbound headers (Starlette's ``Headers``, Werkzeug's ``EnvironHeaders``)."""

    def get(self, key: str, /) -> str | None: ...


def trace_context(headers: HeaderLookup) -> dict[str, str]:
    """The inbound ``traceparent`` (and ``tracestate``) worth forwarding; see the module docstring."""
    parent = (headers.get(TRACEPARENT) or "").strip()
    if not valid_traceparent(parent):
        return {}
    found = {TRACEPARENT: parent}
    state = (headers.get(TRACESTATE) or "").strip()
    if state and valid_tracestate(state):
        found[TRACESTATE] = state
    return found


def valid_traceparent(value: str) -> bool:
    match = _TRACEPARENT_FORMAT.fullmatch(value)
    if match is None:
        return False
    version, trace_id, parent_id = match.groups()
    return version != "ff" and trace_id != "0" * 32 and parent_id != "0" * 16


def valid_tracestate(value: str) -> bool:
    if len(value) > MAX_TRACESTATE_CHARS or _PRINTABLE_ASCII.fullmatch(value) is None:
        return False
    members = [member.strip() for member in value.split(",")]
    listed = [member for member in members if member]
    if len(listed) > MAX_TRACESTATE_MEMBERS:
        return False
    return all(member.partition("=")[0] and "=" in member for member in listed)
