"""Capture and replay: trace scopes, recorded-session replay, cassette files.

``trace``/``trace_scope``/``trace_scope_sync`` (0.2.0 names) and ``replay``/``replay_scope``/
``replay_scope_sync`` (0.5.x names) are the same objects. The flow code calls
:func:`replay_execute`, :func:`replay_events` and :func:`replay_job` inside replay scopes.

``_scopes`` (scopes, ``@trace``), ``_dispatch`` (serving calls from a recording), ``_matching``
(recordings to calls), ``_reconstruction`` (results and events from a recording), ``_sessions``
(the gate, fetching and caching sessions), ``_cassettes`` (session files).
"""

from __future__ import annotations

from noukai_sdk._core.scope import ReplayCall, ReplayedJob, current_session_id
from noukai_sdk._replay._cassettes import aexport_session, export_session, load_cassette
from noukai_sdk._replay._dispatch import (
    replay_events,
    replay_execute,
    replay_job,
)
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
from noukai_sdk._replay._sessions import replay_enabled

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
