"""Matching calls made inside a replay scope to the executions recorded in a session.

A call is keyed by (bare flow slug, trigger type) and takes recordings *positionally*: the N-th
``execute()`` of slug ``grade-3`` gets the N-th recorded ``execute`` of ``grade-3``. Recordings
whose flow was deleted (null slug) still match when another recording of the same session, or the
call itself, tells which slug their ``flowId`` belongs to (the documented fallback). Job
recordings are matched by ``execute_async()`` and never count as leftovers.

This module is pure: it only needs objects with the attributes of the generated session models.
:class:`ReplayState` is what a replay scope keeps while it runs: its matchers.
"""

from __future__ import annotations

import threading
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from noukai_sdk._core.errors import ReplayMissError, ReplayNoSnapshotsError

if TYPE_CHECKING:
    from noukai_sdk._replay._sessions import SessionCache

Trigger = Literal["execute", "step", "job"]
_TRIGGERS: frozenset[str] = frozenset({"execute", "step", "job"})
_LEFTOVER_TRIGGERS: frozenset[str] = frozenset({"execute", "step"})


class RecordedExecution(Protocol):
    """What matching reads from a recorded execution (``SessionExecution``)."""

    @property
    def execution_id(self) -> str: ...
    @property
    def flow_id(self) -> str | None: ...
    @property
    def slug(self) -> str | None: ...
    @property
    def trigger_type(self) -> str | None: ...
    @property
    def snapshots_available(self) -> bool: ...
    @property
    def trace_capture_mode(self) -> str | None: ...


def effective_slugs(executions: Sequence[RecordedExecution]) -> list[str | None]:
    """Each recording's slug, filling null slugs from another recording with the same flowId."""
    slug_by_flow: dict[str, str] = {}
    for execution in executions:
        if execution.slug and execution.flow_id:
            slug_by_flow.setdefault(execution.flow_id, execution.slug)
    return [
        execution.slug or (slug_by_flow.get(execution.flow_id) if execution.flow_id else None)
        for execution in executions
    ]


def check_snapshots(session_id: str, executions: Sequence[RecordedExecution]) -> None:
    """Raise :class:`ReplayNoSnapshotsError` if a replayable recording has no snapshots."""
    for execution in executions:
        if execution.trigger_type in _TRIGGERS and not execution.snapshots_available:
            mode = execution.trace_capture_mode or "unknown"
            raise ReplayNoSnapshotsError(
                f"Session '{session_id}' cannot be replayed: execution "
                f"'{execution.execution_id}' was recorded with traceCaptureMode '{mode}', "
                "which keeps no step snapshots. Record it with trace capture mode 'full' or "
                "'redacted'.",
                status_code=409,
            )


class SessionMatcher:
    """Positional matching state for one session inside one scope (thread-safe)."""

    def __init__(
        self, session_id: str, executions: Sequence[RecordedExecution], *, explicit: bool = False
    ) -> None:
        self.session_id = session_id
        self.explicit = explicit
        """True for a session named by a per-call ``session_id=`` (its misses say so)."""
        self.executions = list(executions)
        self._slugs = effective_slugs(self.executions)
        self._calls: Counter[tuple[str, str]] = Counter()
        self._in_flight: Counter[tuple[str, str]] = Counter()
        self._consumed: set[int] = set()
        self._lock = threading.Lock()

    def match(
        self, slug: str, trigger: Trigger, *, flow_id: str | None = None
    ) -> RecordedExecution:
        """The next recording for (slug, trigger); the position advances even on a miss."""
        with self._lock:
            position = self._calls[(slug, trigger)]
            self._calls[(slug, trigger)] += 1
            candidates = self._candidates(slug, trigger, flow_id)
            if position < len(candidates):
                index = candidates[position]
                self._consumed.add(index)
                return self.executions[index]
        raise ReplayMissError(self._miss_message(slug, trigger, position, len(candidates)))

    def consume(self, execution_id: str) -> None:
        """Mark the recording with this id as used (a one-shot fetch served it)."""
        with self._lock:
            for index, execution in enumerate(self.executions):
                if execution.execution_id == execution_id:
                    self._consumed.add(index)

    def leftovers(self) -> list[str]:
        """Ids of replayable execute/step recordings that no call consumed, sorted."""
        with self._lock:
            return sorted(
                execution.execution_id
                for index, execution in enumerate(self.executions)
                if index not in self._consumed
                and execution.trigger_type in _LEFTOVER_TRIGGERS
                and self._slugs[index]
            )

    def call_started(self, slug: str, trigger: Trigger) -> None:
        """Note a call in flight; warn if another call for the same key is still running."""
        with self._lock:
            self._in_flight[(slug, trigger)] += 1
            concurrent = self._in_flight[(slug, trigger)] > 1
        if concurrent:
            warnings.warn(
                f"Concurrent same-slug execute()/step() detected for '{slug}' ({trigger}) in "
                f"replay scope '{self.session_id}'. Per design, this is undefined behavior in v1 "
                "— the matching may not reflect call order.",
                UserWarning,
                stacklevel=2,
            )

    def call_finished(self, slug: str, trigger: Trigger) -> None:
        with self._lock:
            self._in_flight[(slug, trigger)] -= 1

    def _candidates(self, slug: str, trigger: str, flow_id: str | None) -> list[int]:
        return [
            index
            for index, execution in enumerate(self.executions)
            if execution.trigger_type == trigger
            and (
                self._slugs[index] == slug
                or (flow_id is not None and not execution.slug and execution.flow_id == flow_id)
            )
        ]

    def _miss_message(self, slug: str, trigger: str, position: int, available: int) -> str:
        where = f" (explicit session_id='{self.session_id}')" if self.explicit else ""
        message = (
            f"Replay miss{where}: user code made call #{position + 1} to slug '{slug}' "
            f"({trigger}), but the session has only {available} recorded {trigger} "
            f"execution(s) for that slug out of {len(self.executions)} total. Either the user "
            "code has diverged from the recording, or the recording is incomplete."
        )
        unmatched = sum(1 for s in self._slugs if not s)
        if unmatched:
            message += (
                f" Note: {unmatched} recorded execution(s) have a null/empty slug (deleted flow) "
                "and no flowId that another recording names; they cannot be matched by slug "
                "name. Use a session captured while the flow still existed."
            )
        return message


@dataclass(eq=False)
class ReplayState:
    """Stored as ``Scope.replay_state`` of a replay scope.

    ``matcher`` serves the scope's own session. ``explicit`` holds a matcher per session named
    by a per-call ``session_id=`` (fetched once, then matched positionally like the scope's own).
    ``cache`` is the scope client's session cache, if the scope has a client.
    """

    matcher: SessionMatcher
    cache: SessionCache | None = None
    explicit: dict[str, SessionMatcher] = field(default_factory=lambda: {})
    lock: threading.Lock = field(default_factory=threading.Lock)
