"""Black-box checks of what both clients put on the wire and how they read answers.

Written from the wire contract and the documented behaviour. Requests are captured
with an ``httpx.MockTransport`` inside an injected client, or with respx.
"""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from client_helpers import KEY, resolve
from wire_double import KINDS, Wire, ok, paused_body, short_completed

from noukai_sdk import (
    AsyncNoukai,
    ExecuteResult,
    FlowExecutionError,
    Noukai,
    PausedResult,
)

BASE = "https://api.noukai.dev/api/v1"
EXEC = f"{BASE}/seq/acme/support/triage/execute"


@pytest.mark.parametrize("kind", KINDS)
def test_minimal_execute_bodies_are_byte_exact(kind: str) -> None:
    wire = Wire(ok(short_completed()))
    flow = wire.client(kind).flow("acme/support/triage")
    resolve(flow.execute("The cat sat on the mat."))
    resolve(flow.execute())
    resolve(flow.execute(""))
    assert wire.bodies() == [
        b'{"message":"The cat sat on the mat.","parameters":{},"iterationsUsed":0,"accumulatedOutputs":{},"trace":false}',
        b'{"parameters":{},"iterationsUsed":0,"accumulatedOutputs":{},"trace":false}',
        b'{"message":"","parameters":{},"iterationsUsed":0,"accumulatedOutputs":{},"trace":false}',
    ]
    assert str(wire.requests[0].url) == EXEC


@pytest.mark.parametrize("kind", KINDS)
def test_a_full_execute_body_keeps_contract_order_and_raw_utf8(kind: str) -> None:
    wire = Wire(ok(short_completed()))
    flow = wire.client(kind).flow("acme/support/triage")
    resolve(
        flow.execute(
            "héllo ✓ 日本",
            parameters={"z": 1, "a": "ü"},
            block_overrides={"step-1": {"model": "m"}},
            attachments=[{"url": "https://x", "mime_type": "image/png"}],
            tools=[{"type": "function", "function": {"name": "f"}}],
            tool_choice="auto",
            trace=True,
            version=3,
        )
    )
    (request,) = wire.requests
    assert request.url.path == "/api/v1/seq/acme/support/triage/v3/execute"
    expected = {
        "message": "héllo ✓ 日本",
        "parameters": {"z": 1, "a": "ü"},
        "blockOverrides": {"step-1": {"model": "m"}},
        "attachments": [{"url": "https://x", "mime_type": "image/png"}],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "toolChoice": "auto",
        "iterationsUsed": 0,
        "accumulatedOutputs": {},
        "trace": True,
    }
    assert (
        request.content == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
    )
    assert request.headers["content-length"] == str(len(request.content))


@pytest.mark.parametrize("kind", KINDS)
def test_constant_headers_and_no_extras(kind: str) -> None:
    wire = Wire(ok(short_completed()))
    resolve(wire.client(kind).flow("acme/support/triage").execute("hi"))
    headers = wire.requests[0].headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["x-noukai-api-version"] == "2026-05-31"
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json"
    ua = headers["user-agent"]
    assert ua.startswith("noukai-python/") and "(httpx/" in ua and "; python/" in ua
    for absent in (
        "x-session-id",
        "x-noukai-replay",
        "idempotency-key",
        "cache-control",
        "last-event-id",
    ):
        assert absent not in headers


@pytest.mark.parametrize("kind", KINDS)
def test_injected_client_settings_cannot_override_the_sdk_headers_or_target(kind: str) -> None:
    wire = Wire(ok(short_completed()))
    if kind == "sync":
        http: httpx.Client | httpx.AsyncClient = httpx.Client(
            transport=httpx.MockTransport(wire.answer),
            base_url="https://elsewhere.example/x",
            headers={
                "Authorization": "Bearer other",
                "X-Noukai-API-Version": "1999",
                "User-Agent": "u",
            },
            auth=("user", "pass"),
        )
        client: Noukai | AsyncNoukai = Noukai(KEY, http_client=http)  # type: ignore[arg-type]
    else:

        async def handler(request: httpx.Request) -> httpx.Response:
            return wire.answer(request)

        http = httpx.AsyncClient(
            transport=httpx.MockTransport(handler),
            base_url="https://elsewhere.example/x",
            headers={
                "Authorization": "Bearer other",
                "X-Noukai-API-Version": "1999",
                "User-Agent": "u",
            },
            auth=("user", "pass"),
        )
        client = AsyncNoukai(KEY, http_client=http)
    resolve(client.flow("acme/support/triage").execute("hi"))
    (request,) = wire.requests
    assert str(request.url) == EXEC
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-noukai-api-version"] == "2026-05-31"
    assert request.headers["user-agent"].startswith("noukai-python/")


@pytest.mark.parametrize("kind", KINDS)
def test_redirects_are_never_followed_even_by_an_injected_client(kind: str) -> None:
    wire = Wire(
        httpx.Response(307, headers={"Location": "https://elsewhere.example/steal"}),
        ok(short_completed()),
    )
    if kind == "sync":
        http: httpx.Client | httpx.AsyncClient = httpx.Client(
            transport=httpx.MockTransport(wire.answer), follow_redirects=True
        )
        client: Noukai | AsyncNoukai = Noukai(KEY, http_client=http)  # type: ignore[arg-type]
    else:

        async def handler(request: httpx.Request) -> httpx.Response:
            return wire.answer(request)

        http = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True)
        client = AsyncNoukai(KEY, http_client=http)
    with pytest.raises(FlowExecutionError) as info:
        resolve(client.flow("acme/support/triage").execute("hi"))
    assert info.value.status_code == 307
    assert [r.url.host for r in wire.requests] == ["api.noukai.dev"]


@pytest.mark.parametrize("kind", KINDS)
def test_session_id_header_rules(kind: str) -> None:
    wire = Wire(ok(paused_body()), ok(short_completed()))
    client = wire.client(kind, session_id="client-default")
    flow = client.flow("acme/support/triage")
    first = resolve(flow.execute("hi", session_id="per-call"))
    assert isinstance(first, PausedResult) and first.session_id == "per-call"
    if kind == "sync":
        final = first.resume_sync([{"role": "tool", "tool_call_id": "t", "content": "c"}])
    else:
        final = resolve(first.resume([{"role": "tool", "tool_call_id": "t", "content": "c"}]))
    assert isinstance(final, ExecuteResult)
    assert [r.headers.get("x-session-id") for r in wire.requests] == ["per-call", "per-call"]
    assert final.session_id == "per-call"
    resolve(flow.execute("again"))
    assert wire.requests[-1].headers["x-session-id"] == "client-default"
    resolve(flow.execute("empty", session_id=""))
    assert wire.requests[-1].headers["x-session-id"] == ""


@pytest.mark.parametrize("kind", KINDS)
def test_result_attributes(kind: str) -> None:
    wire = Wire(
        ok(short_completed(extra="ignored")), ok(short_completed(status="failed", result=None))
    )
    flow = wire.client(kind).flow("acme/support/triage")
    result = resolve(flow.execute("hi"))
    assert isinstance(result, ExecuteResult)
    assert result.output == result.result == {"answer": 42}
    assert (result.status, result.flow_id, result.block_count, result.execution_id) == (
        "completed",
        "f",
        3,
        "e",
    )
    assert result.session_id is None and result.requires_tool_calls is False
    failed = resolve(flow.execute("hi"))
    assert failed.status == "failed" and failed.output is None


@pytest.mark.parametrize("kind", KINDS)
def test_step_trace_queries_and_models(kind: str) -> None:
    step = {"stepId": "s", "attempt": 1, "status": "completed", "costUsd": "0.1"}
    wire = Wire(ok(step), ok({"stepId": "s", "attempts": [step]}), ok(step), ok(step))
    run_handle = wire.client(kind).flow("acme/support/triage").run("e")
    assert run_handle.execution_id == "e"
    latest = resolve(run_handle.step_trace("s"))
    all_attempts = resolve(run_handle.step_trace("s", attempt="all"))
    resolve(run_handle.step_trace("s", attempt=2, loop_index=3))
    resolve(run_handle.step_trace("s", loop_index=0))
    assert latest.step_id == "s" and latest.attempt == 1
    assert len(all_attempts.attempts) == 1
    urls = [str(r.url) for r in wire.requests]
    prefix = f"{BASE}/seq/acme/support/triage/runs/e/steps/s/trace"
    assert urls == [
        prefix,
        prefix + "?attempt=all",
        prefix + "?attempt=2&loop_index=3",
        prefix + "?loop_index=0",
    ]


@respx.mock
def test_respx_sees_the_same_traffic() -> None:
    route = respx.post(EXEC).mock(return_value=httpx.Response(200, json=short_completed()))
    with Noukai(KEY) as client:
        client.flow("acme/support/triage").execute("hi")
    assert route.called


def test_the_keyless_relay_client_keeps_its_injected_clients_auth_and_redirects() -> None:
    from noukai_sdk import RelayFlow

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/old":
            return httpx.Response(308, headers={"Location": "https://relay.example/new"})
        return httpx.Response(200, json=short_completed())

    http = httpx.Client(
        transport=httpx.MockTransport(answer), auth=("app", "pw"), follow_redirects=True
    )
    with RelayFlow("https://relay.example/old", client=http) as flow:
        result = flow.execute("hi")
    assert isinstance(result, ExecuteResult)
    assert [r.url.path for r in seen] == ["/old", "/new"]
    assert all(r.headers["authorization"].startswith("Basic ") for r in seen)
