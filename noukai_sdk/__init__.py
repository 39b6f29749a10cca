"""Noukai SDK: run Noukai flows — blocking, streamed, queued, tool-calling, traced and replayed.

``import noukai_sdk`` loads only what a first ``execute()`` needs; the streaming event classes,
the replay/trace scope API and the relay client are imported on first use (module ``__getattr__``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from noukai_sdk._client import AsyncNoukai, Noukai
from noukai_sdk._core.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    FlowExecutionError,
    FlowNotFoundError,
    InsufficientCreditsError,
    NoukaiError,
    OutputValidationError,
    PermissionDeniedError,
    RateLimitError,
    ReplayDisabledError,
    ReplayError,
    ReplayForbiddenError,
    ReplayInvalidSessionError,
    ReplayLeftoverError,
    ReplayMissError,
    ReplayNoSnapshotsError,
    ReplaySessionExpiredError,
    ReplaySessionNotFoundError,
    StreamInterruptedError,
    ToolCallLimitError,
)
from noukai_sdk._core.scope import current_session_id
from noukai_sdk._version import __version__

if TYPE_CHECKING:
    from noukai_sdk._core.batch import BatchError, BatchItem, BatchResult
    from noukai_sdk._core.events import (
        FlowCompleted,
        LoopCompleted,
        RunStarted,
        StepCompleted,
        StepFailed,
        StepInput,
        StepOutput,
        StepPaused,
        StepProgress,
        StepStarted,
        StreamEvent,
        ToolCallsRequired,
    )
    from noukai_sdk._core.results import ExecuteResult, JobAccepted, JobStatus, PausedResult, Trace
    from noukai_sdk._core.usage import Usage
    from noukai_sdk._flows import AsyncFlow, Flow
    from noukai_sdk._jobs import AsyncJob, Job
    from noukai_sdk._relay import (
        AsyncRelayFlow,
        RelayExecuteTransport,
        RelayFlow,
        RelaySyncExecuteTransport,
    )
    from noukai_sdk._replay import (
        replay,
        replay_scope,
        replay_scope_sync,
        trace,
        trace_scope,
        trace_scope_sync,
    )
    from noukai_sdk._runs import AsyncRun, Run
    from noukai_sdk._streams import AsyncObjectStream, AsyncTextStream, ObjectStream, TextStream
    from noukai_sdk_generated.models import (
        ChatMessage,
        RunSummary,
        StepAttempts,
        StepTrace,
        TokenBreakdown,
    )

_LAZY: dict[str, str] = {
    "Usage": "noukai_sdk._core.usage",
    "Flow": "noukai_sdk._flows",
    "AsyncFlow": "noukai_sdk._flows",
    "Job": "noukai_sdk._jobs",
    "AsyncJob": "noukai_sdk._jobs",
    "Run": "noukai_sdk._runs",
    "AsyncRun": "noukai_sdk._runs",
    **dict.fromkeys(("BatchError", "BatchItem", "BatchResult"), "noukai_sdk._core.batch"),
    **dict.fromkeys(
        ("ExecuteResult", "JobAccepted", "JobStatus", "PausedResult", "Trace"),
        "noukai_sdk._core.results",
    ),
    **dict.fromkeys(
        (
            "ChatMessage",
            "RunSummary",
            "StepAttempts",
            "StepTrace",
            "TokenBreakdown",
        ),
        "noukai_sdk_generated.models",
    ),
    **dict.fromkeys(
        (
            "StreamEvent",
            "RunStarted",
            "StepStarted",
            "StepInput",
            "StepOutput",
            "StepProgress",
            "StepCompleted",
            "StepFailed",
            "StepPaused",
            "ToolCallsRequired",
            "LoopCompleted",
            "FlowCompleted",
        ),
        "noukai_sdk._core.events",
    ),
    **dict.fromkeys(
        ("trace", "trace_scope", "trace_scope_sync", "replay", "replay_scope", "replay_scope_sync"),
        "noukai_sdk._replay",
    ),
    **dict.fromkeys(
        ("TextStream", "AsyncTextStream", "ObjectStream", "AsyncObjectStream"),
        "noukai_sdk._streams",
    ),
    **dict.fromkeys(
        ("RelayFlow", "AsyncRelayFlow", "RelayExecuteTransport", "RelaySyncExecuteTransport"),
        "noukai_sdk._relay",
    ),
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'noukai_sdk' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APITimeoutError",
    "AsyncFlow",
    "AsyncJob",
    "AsyncNoukai",
    "AsyncObjectStream",
    "AsyncRelayFlow",
    "AsyncRun",
    "AsyncTextStream",
    "AuthenticationError",
    "BatchError",
    "BatchItem",
    "BatchResult",
    "ChatMessage",
    "ExecuteResult",
    "Flow",
    "FlowCompleted",
    "FlowExecutionError",
    "FlowNotFoundError",
    "InsufficientCreditsError",
    "Job",
    "JobAccepted",
    "JobStatus",
    "LoopCompleted",
    "Noukai",
    "NoukaiError",
    "ObjectStream",
    "OutputValidationError",
    "PausedResult",
    "PermissionDeniedError",
    "RateLimitError",
    "RelayExecuteTransport",
    "RelayFlow",
    "RelaySyncExecuteTransport",
    "ReplayDisabledError",
    "ReplayError",
    "ReplayForbiddenError",
    "ReplayInvalidSessionError",
    "ReplayLeftoverError",
    "ReplayMissError",
    "ReplayNoSnapshotsError",
    "ReplaySessionExpiredError",
    "ReplaySessionNotFoundError",
    "Run",
    "RunStarted",
    "RunSummary",
    "StepAttempts",
    "StepCompleted",
    "StepFailed",
    "StepInput",
    "StepOutput",
    "StepPaused",
    "StepProgress",
    "StepStarted",
    "StepTrace",
    "StreamEvent",
    "StreamInterruptedError",
    "TextStream",
    "TokenBreakdown",
    "ToolCallLimitError",
    "ToolCallsRequired",
    "Trace",
    "Usage",
    "__version__",
    "current_session_id",
    "replay",
    "replay_scope",
    "replay_scope_sync",
    "trace",
    "trace_scope",
    "trace_scope_sync",
]
