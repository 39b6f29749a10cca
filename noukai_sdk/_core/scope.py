"""The active trace/replay scope: one context variable, cheap to import.

The client and the step protocol only need to know *whether* a scope is active, its mode and its
session id; everything heavier (fetching sessions, matching, reconstruction) lives in
:mod:`noukai_sdk._replay` and is imported only when a scope is actually in replay mode.

The scope lives in a :class:`contextvars.ContextVar`, so nested calls and asyncio tasks created
inside a scope see it. Threads do not inherit it: run work in another thread with
``contextvars.copy_context().run(func)`` (or ``loop.run_in_executor`` with a copied context) to
keep the scope there.

:class:`ReplayCall` and :class:`ReplayedJob` are what the flow and job shells hand to, and get
back from, the replay feature; they live here so the shells need no type from it.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from noukai_sdk._core.link import ClientLink
    from noukai_sdk._core.results import JobStatus

ScopeMode = Literal["normal", "capture", "replay"]


@dataclass(eq=False, slots=True)
class Scope:
    """One entered trace/replay scope.

    ``session_id`` is the capture UUID or the replayed session's id (``None`` in normal mode).
    ``replay_state`` is owned by :mod:`noukai_sdk._replay` (the fetched session, match cursors,
    consumed executions); other modules must treat it as opaque.
    """

    mode: ScopeMode
    session_id: str | None
    replay_state: Any = None

    @property
    def is_replay(self) -> bool:
        return self.mode == "replay"


_active_scope: ContextVar[Scope | None] = ContextVar("noukai_active_scope", default=None)


def active_scope() -> Scope | None:
    """The innermost scope entered in this context, or ``None`` outside any scope."""
    return _active_scope.get()


current_scope = active_scope
"""Alias of :func:`active_scope` (the name used in docs/architecture.md)."""


def current_session_id() -> str | None:
    """The active scope's session id; ``None`` outside any scope or in a normal-mode scope."""
    scope = _active_scope.get()
    return scope.session_id if scope is not None else None


def resolve_session_id(per_call: str | None, client_default: str | None) -> str | None:
    """The session id to send as ``X-Session-Id`` and to put on results.

    Precedence: the per-call ``session_id`` when not ``None`` (an empty
    string counts as given), else the active scope's session id, else the client default.
    """
    if per_call is not None:
        return per_call
    scope = _active_scope.get()
    if scope is not None and scope.session_id is not None:
        return scope.session_id
    return client_default


def enter_scope(scope: Scope) -> Token[Scope | None]:
    """Make ``scope`` active; returns the token that :func:`exit_scope` needs."""
    return _active_scope.set(scope)


def exit_scope(token: Token[Scope | None]) -> None:
    """Restore the scope that was active before the matching :func:`enter_scope`."""
    _active_scope.reset(token)


@dataclass(frozen=True, slots=True)
class ReplayCall:
    """What a replayed call needs from its caller.

    ``slug`` is the bare slug of the bound flow; ``session_id`` the per-call ``session_id=``
    argument exactly as given (``None`` when omitted); ``link`` the calling client's link (its
    request context fetches an explicitly named session, and it keys the session cache);
    ``flow_id`` the flow's id when the caller knows it (matches recordings of a deleted flow).
    """

    slug: str
    session_id: str | None = None
    link: ClientLink | None = None
    flow_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReplayedJob:
    """A job recording served in replay: submission facts plus the final status to report."""

    execution_id: str
    flow_id: str
    block_count: int
    session_id: str
    final_status: JobStatus
