"""What a replay scope keeps while it runs: the session's matcher and one-shot sessions."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from noukai_sdk._replay._matching import SessionMatcher

if TYPE_CHECKING:
    from noukai_sdk._replay._sessions import SessionCache


@dataclass(eq=False)
class ReplayState:
    """Stored as ``Scope.replay_state`` of a replay scope.

    ``matcher`` serves the scope's own session. ``explicit`` holds a matcher per session named
    by a per-call ``session_id=`` (fetched once, then matched positionally like the scope's own,
    W47). ``cache`` is the scope client's session cache, if the scope has a client.
    """

    matcher: SessionMatcher
    cache: SessionCache | None = None
    explicit: dict[str, SessionMatcher] = field(default_factory=lambda: {})
    lock: threading.Lock = field(default_factory=threading.Lock)
