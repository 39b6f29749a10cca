"""Public surface: exports, lazy imports, sync/async method parity, and the API key never leaking."""

from __future__ import annotations

import subprocess
import sys
import time
import warnings
from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, KEY, completed, make_client, paused, resolve
from test_blackbox_client_config import DOCUMENTED_NAMES

import noukai_sdk
from noukai_sdk import (
    AsyncFlow,
    AsyncJob,
    AsyncNoukai,
    AsyncRun,
    Flow,
    Job,
    Noukai,
    NoukaiError,
    Run,
)

CONTRACT_NAMES = DOCUMENTED_NAMES | {"StreamInterruptedError"}
# The streaming helpers' public classes (what stream_text() and stream_object() return).
STREAM_HELPER_NAMES = {
    "TextStream",
    "AsyncTextStream",
    "ObjectStream",
    "AsyncObjectStream",
    "OutputValidationError",
}


def test_all_contract_names_are_exported_and_resolve() -> None:
    assert set(noukai_sdk.__all__) >= CONTRACT_NAMES
    for name in noukai_sdk.__all__:
        assert getattr(noukai_sdk, name) is not None, name
    assert noukai_sdk.trace is noukai_sdk.replay
    assert noukai_sdk.trace_scope is noukai_sdk.replay_scope


def test_stream_helper_classes_are_exported_lazily() -> None:
    assert set(noukai_sdk.__all__) >= STREAM_HELPER_NAMES
    code = (
        "import sys, noukai_sdk; assert 'noukai_sdk._streams' not in sys.modules; "
        "from noukai_sdk import TextStream, ObjectStream; "
        "assert TextStream.__module__ == 'noukai_sdk._streams'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_exception_hierarchy() -> None:
    from noukai_sdk import (
        APIConnectionError,
        APIResponseValidationError,
        APITimeoutError,
        ReplayError,
        ReplayMissError,
        StreamInterruptedError,
    )

    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(StreamInterruptedError, APIConnectionError)
    assert issubclass(APIResponseValidationError, NoukaiError)
    assert issubclass(ReplayMissError, ReplayError) and issubclass(ReplayError, NoukaiError)
    error = StreamInterruptedError(
        "cut", execution_id="e", step_index=2, accumulated_outputs={"a": 1}
    )
    assert (error.execution_id, error.step_index, error.accumulated_outputs) == ("e", 2, {"a": 1})


def test_import_is_light() -> None:
    code = (
        "import sys, noukai_sdk; "
        "heavy = [m for m in sys.modules if m.startswith(('noukai_sdk._replay', 'noukai_sdk.adapters', "
        "'noukai_sdk.devserver', 'noukai_sdk.cli', 'opentelemetry', 'starlette', 'fastapi', 'flask', "
        "'noukai_sdk._core.step_protocol', 'noukai_sdk._core.sse', 'noukai_sdk_generated.models.', "
        "'pydantic.main'))]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def public_methods(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


@pytest.mark.parametrize(
    ("sync_cls", "async_cls"),
    [(Noukai, AsyncNoukai), (Flow, AsyncFlow), (Run, AsyncRun), (Job, AsyncJob)],
)
def test_sync_and_async_mirror_each_other(sync_cls: type, async_cls: type) -> None:
    sync_names = public_methods(sync_cls) - {"close"}
    async_names = public_methods(async_cls) - {"aclose"}
    assert sync_names == async_names
    assert ("close" in public_methods(sync_cls)) == ("aclose" in public_methods(async_cls))


def test_api_key_never_appears_in_events_errors_reprs_or_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    seen: list[str] = []

    def record(value: Any) -> None:
        seen.append(str(value))
        seen.append(repr(value))

    scenarios: list[tuple[str, Any]] = [
        ("post", httpx.Response(200, json=completed())),
        ("post", httpx.Response(200, json=paused())),
        (
            "post",
            httpx.Response(
                401, json={"detail": f"bad key {KEY}"}, headers={"WWW-Authenticate": "Bearer"}
            ),
        ),
        ("post", httpx.Response(429, json={"detail": "slow"}, headers={"Retry-After": "3"})),
        ("post", httpx.Response(500, content=f"oops {KEY}".encode())),
        ("post", httpx.Response(200, content=f"not json {KEY}".encode())),
        ("post", httpx.ConnectError(f"refused for Bearer {KEY}")),
        ("get", httpx.Response(503)),
        ("get", httpx.ReadTimeout("slow")),
    ]
    for kind in ("sync", "async"):
        client = make_client(kind, log_handler=record, log_payloads=True, session_id="s")  # type: ignore[arg-type]
        record(client)
        flow = client.flow("o/p/s")
        record(flow)
        for method, outcome in scenarios:
            with respx.mock(base_url=BASE) as mock:
                route = (
                    mock.post("/seq/o/p/s/execute")
                    if method == "post"
                    else mock.get("/seq/o/p/s/runs/e1/trace")
                )
                route.mock(side_effect=[outcome, outcome])
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        result = resolve(
                            flow.execute("hi") if method == "post" else flow.run("e1").trace()
                        )
                    record(result)
                except NoukaiError as error:
                    record(error)
                    record(error.args)
                for call in route.calls:
                    record(call.request.url)
    assert seen
    leaks = [text for text in seen if KEY in text]
    assert leaks == []
