"""The public surface: every documented name is exported, both scope vocabularies are the same
objects, sync and async classes mirror each other, and ``import noukai_sdk`` stays light."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

import noukai_sdk
from noukai_sdk import AsyncFlow, AsyncJob, AsyncNoukai, AsyncRun, Flow, Job, Noukai, Run

DOCUMENTED_0_2_0 = {
    "__version__",
    *("Noukai", "AsyncNoukai", "Flow", "AsyncFlow", "Run", "AsyncRun", "Job", "AsyncJob"),
    *("ExecuteResult", "PausedResult", "JobAccepted", "JobStatus"),
    *("StreamEvent", "RunStarted", "StepStarted", "StepInput", "StepOutput", "StepCompleted"),
    *("StepFailed", "StepPaused", "ToolCallsRequired", "FlowCompleted"),
    *("Trace", "RunSummary", "StepTrace", "StepAttempts", "TokenBreakdown"),
    *("NoukaiError", "APIConnectionError", "APITimeoutError", "AuthenticationError"),
    *("PermissionDeniedError", "FlowNotFoundError", "InsufficientCreditsError", "RateLimitError"),
    *("FlowExecutionError", "ToolCallLimitError", "ReplayError", "ReplayDisabledError"),
    *("ReplayForbiddenError", "ReplayInvalidSessionError", "ReplayLeftoverError"),
    *("ReplayMissError", "ReplayNoSnapshotsError", "ReplaySessionExpiredError"),
    "ReplaySessionNotFoundError",
    *("trace", "trace_scope", "trace_scope_sync", "current_session_id"),
}
ADDED_SINCE = {
    *("AsyncRelayFlow", "ChatMessage", "RelayExecuteTransport", "RelayFlow"),
    *("RelaySyncExecuteTransport", "replay", "replay_scope", "replay_scope_sync"),
    *("APIResponseValidationError", "StreamInterruptedError", "Usage"),
    # what stream_text() and stream_object() return, and what final_object raises
    *("TextStream", "AsyncTextStream", "ObjectStream", "AsyncObjectStream"),
    "OutputValidationError",
}


@pytest.mark.parametrize("name", sorted(DOCUMENTED_0_2_0 | ADDED_SINCE))
def test_every_documented_name_is_exported(name: str) -> None:
    assert name in noukai_sdk.__all__


def test_every_exported_name_resolves_once() -> None:
    assert len(noukai_sdk.__all__) == len(set(noukai_sdk.__all__))
    for name in noukai_sdk.__all__:
        assert getattr(noukai_sdk, name) is not None, name
    assert isinstance(noukai_sdk.__version__, str)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("trace", "replay"),
        ("trace_scope", "replay_scope"),
        ("trace_scope_sync", "replay_scope_sync"),
    ],
)
def test_both_scope_vocabularies_are_the_same_objects(old: str, new: str) -> None:
    assert getattr(noukai_sdk, old) is getattr(noukai_sdk, new)


def test_replay_is_the_decorator_even_after_the_machinery_is_loaded() -> None:
    # A fresh process, because only there can the machinery be loaded before the name is read.
    script = (
        "import noukai_sdk.cassettes, noukai_sdk.adapters.fastapi, noukai_sdk\n"
        "from noukai_sdk import replay, trace\n"
        "import types\n"
        "assert not isinstance(replay, types.ModuleType), replay\n"
        "assert replay is trace and callable(replay)\n"
        "assert noukai_sdk.replay is trace\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def public_methods(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


@pytest.mark.parametrize(
    ("sync_cls", "async_cls"),
    [(Noukai, AsyncNoukai), (Flow, AsyncFlow), (Run, AsyncRun), (Job, AsyncJob)],
)
def test_sync_and_async_classes_mirror_each_other(sync_cls: type, async_cls: type) -> None:
    assert public_methods(sync_cls) - {"close"} == public_methods(async_cls) - {"aclose"}
    assert ("close" in public_methods(sync_cls)) == ("aclose" in public_methods(async_cls))


HEAVY_AT_IMPORT = (
    "noukai_sdk._replay",
    "noukai_sdk.adapters",
    "noukai_sdk.devserver",
    "noukai_sdk.cli",
    "noukai_sdk._core.step_protocol",
    "noukai_sdk._core.sse",
    "noukai_sdk_generated.models.",
    "opentelemetry",
    "starlette",
    "fastapi",
    "flask",
    "pydantic.main",
)


def test_import_is_light(fresh_import: dict[str, Any]) -> None:
    assert [name for name in fresh_import["import"] if name.startswith(HEAVY_AT_IMPORT)] == []


def test_the_stream_helper_classes_are_loaded_on_first_use(fresh_import: dict[str, Any]) -> None:
    assert "noukai_sdk._streams" not in fresh_import["import"]
    assert fresh_import["stream_helper_modules"] == ["noukai_sdk._streams"] * 2
