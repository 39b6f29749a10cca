"""Capture and replay: trace scopes, recorded-session replay, cassette files.

``trace``/``trace_scope``/``trace_scope_sync`` (0.2.0 names) and ``replay``/``replay_scope``/
``replay_scope_sync`` (0.5.x names) are the same objects. The flow code calls
:func:`replay_execute`, :func:`replay_events` and :func:`replay_job` inside replay scopes.
"""

from __future__ import annotations

from noukai_sdk._core.scope import current_session_id
from noukai_sdk._replay._cassettes import aexport_session, export_session, load_cassette
from noukai_sdk._replay._dispatch import (
    ReplayCall,
    ReplayedJob,
    replay_events,
    replay_execute,
    replay_job,
)
from noukai_sdk._replay._gate import replay_enabled
from noukai_sdk._replay._scopes import (
    AsyncScope,
    SyncScope,
    replay,
    replay_scope,
    replay_scope_sync,
    trace,
    trace_scope,
    trace_scope_sync,
)

__all__ = [
    "AsyncScope",
    "ReplayCall",
    "ReplayedJob",
    "SyncScope",
    "aexport_session",
    "current_session_id",
    "export_session",
    "load_cassette",
    "replay",
    "replay_enabled",
    "replay_events",
    "replay_execute",
    "replay_job",
    "replay_scope",
    "replay_scope_sync",
    "trace",
    "trace_scope",
    "trace_scope_sync",
]
