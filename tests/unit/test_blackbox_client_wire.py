"""Black-box checks of what both clients put on the wire and how they read answers.

Written from the wire contract and the documented behaviour. Requests are captured
with an ``httpx.MockTransport`` inside an injected client, or with respx.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from noukai_sdk import (
    APIConnectionError,
    AsyncNoukai,
    AuthenticationError,
    ExecuteResult,
    FlowExecutionError,
    FlowNotFoundError,
    InsufficientCreditsError,
    Noukai,
    NoukaiError,
    PausedResult,
    PermissionDeniedError,
    RateLimitError,
    ToolCallLimitError,
)

KEY = "nk_wire_secret_0123456789"
BASE = "https://api.noukai.dev/api/v1"
EXEC = f"{BASE}/seq/acme/support/triage/execute"
KINDS = ["sync", "async"]
Handler = Callable[[httpx.Request], httpx.Response]


def run(value: Any) -> Any:
    if inspect.isawaitable(value):

        async def wait() -> Any:
            return await value

        return asyncio.run(wait())
    return value


def completed(**overrides: Any) -> dict[str, Any]:
    body = {
        "status": "completed",
        "result": {"answer": 42},
        "flowId": "f",
        "blockCount": 3,
        "executionId": "e",
    }
    body.update(overrides)
    return body


def paused_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "status": "tool_calls_required",
        "executionId": "e",
        "pausedAtStep": "s1",
        "iterationsUsed": 2,
        "toolCallMessages": [{"role": "assistant", "tool_calls": [{"id": "t"}]}],
        "toolCalls": [{"id": "t", "function": {"name": "x", "arguments": "{}"}}],
        "accumulatedOutputs": {"s0": 1},
        "flowId": "f",
        "blockCount": 2,
    }
    body.update(overrides)
    return body


class Wire:
    """An injected httpx client that records requests and answers from a queue of responses."""

    def __init__(self, *responses: httpx.Response | Handler) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def _answer(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        return answer(request) if callable(answer) else answer

    def client(self, kind: str, **kwargs: Any) -> Noukai | AsyncNoukai:
        if kind == "sync":
            return Noukai(
                KEY, http_client=httpx.Client(transport=httpx.MockTransport(self._answer)), **kwargs
            )

        async def handler(request: httpx.Request) -> httpx.Response:
            return self._answer(request)

        return AsyncNoukai(
            KEY, http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)), **kwargs
        )

    def bodies(self) -> list[bytes]:
        return [r.content for r in self.requests]


def ok(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


@pytest.mark.parametrize("kind", KINDS)
def test_minimal_execute_bodies_are_byte_exact(kind: str) -> None:
    wire = Wire(ok(completed()))
    flow = wire.client(kind).flow("acme/support/triage")
    run(flow.execute("The cat sat on the mat."))
    run(flow.execute())
    run(flow.execute(""))
    assert wire.bodies() == [
        b'{"message":"The cat sat on the mat.","parameters":{},"iterationsUsed":0,"accumulatedOutputs":{},"trace":false}',
        b'{"parameters":{},"iterationsUsed":0,"accumulatedOutputs":{},"trace":false}',
        b'{"message":"","parameters":{},"iterationsUsed":0,"accumulatedOutputs":{},"trace":false}',
    ]
    assert str(wire.requests[0].url) == EXEC


@pytest.mark.parametrize("kind", KINDS)
def test_a_full_execute_body_keeps_contract_order_and_raw_utf8(kind: str) -> None:
    wire = Wire(ok(completed()))
    flow = wire.client(kind).flow("acme/support/triage")
    run(
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
    wire = Wire(ok(completed()))
    run(wire.client(kind).flow("acme/support/triage").execute("hi"))
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
    wire = Wire(ok(completed()))
    if kind == "sync":
        http: httpx.Client | httpx.AsyncClient = httpx.Client(
            transport=httpx.MockTransport(wire._answer),
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
            return wire._answer(request)

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
    run(client.flow("acme/support/triage").execute("hi"))
    (request,) = wire.requests
    assert str(request.url) == EXEC
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["x-noukai-api-version"] == "2026-05-31"
    assert request.headers["user-agent"].startswith("noukai-python/")


@pytest.mark.parametrize("kind", KINDS)
def test_redirects_are_never_followed_even_by_an_injected_client(kind: str) -> None:
    wire = Wire(
        httpx.Response(307, headers={"Location": "https://elsewhere.example/steal"}),
        ok(completed()),
    )
    if kind == "sync":
        http: httpx.Client | httpx.AsyncClient = httpx.Client(
            transport=httpx.MockTransport(wire._answer), follow_redirects=True
        )
        client: Noukai | AsyncNoukai = Noukai(KEY, http_client=http)  # type: ignore[arg-type]
    else:

        async def handler(request: httpx.Request) -> httpx.Response:
            return wire._answer(request)

        http = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=True)
        client = AsyncNoukai(KEY, http_client=http)
    with pytest.raises(FlowExecutionError) as info:
        run(client.flow("acme/support/triage").execute("hi"))
    assert info.value.status_code == 307
    assert [r.url.host for r in wire.requests] == ["api.noukai.dev"]


@pytest.mark.parametrize("kind", KINDS)
def test_session_id_header_rules(kind: str) -> None:
    wire = Wire(ok(paused_body()), ok(completed()))
    client = wire.client(kind, session_id="client-default")
    flow = client.flow("acme/support/triage")
    first = run(flow.execute("hi", session_id="per-call"))
    assert isinstance(first, PausedResult) and first.session_id == "per-call"
    if kind == "sync":
        final = first.resume_sync([{"role": "tool", "tool_call_id": "t", "content": "c"}])
    else:
        final = run(first.resume([{"role": "tool", "tool_call_id": "t", "content": "c"}]))
    assert isinstance(final, ExecuteResult)
    assert [r.headers.get("x-session-id") for r in wire.requests] == ["per-call", "per-call"]
    assert final.session_id == "per-call"
    run(flow.execute("again"))
    assert wire.requests[-1].headers["x-session-id"] == "client-default"
    run(flow.execute("empty", session_id=""))
    assert wire.requests[-1].headers["x-session-id"] == ""


@pytest.mark.parametrize("kind", KINDS)
def test_resume_body_matches_the_verified_example(kind: str) -> None:
    wire = Wire(ok(paused_body()), ok(completed()))
    flow = wire.client(kind).flow("acme/support/triage")
    paused = run(
        flow.execute(
            "hi",
            parameters={"p": 1},
            block_overrides={"b": {}},
            attachments=[{"url": "u"}],
            tools=[{"t": 1}],
            tool_choice={"type": "function", "function": {"name": "x"}},
            trace=True,
            version=2,
        )
    )
    results = [{"role": "tool", "tool_call_id": "t", "content": "c"}]
    run(paused.resume_sync(results) if kind == "sync" else paused.resume(results))
    resume = wire.requests[1]
    assert resume.url.path == "/api/v1/seq/acme/support/triage/v2/execute"
    assert resume.content == (
        b'{"parameters":{"p":1},"blockOverrides":{"b":{}},"attachments":[{"url":"u"}],"tools":[{"t":1}],'
        b'"toolChoice":{"type":"function","function":{"name":"x"}},"executionId":"e","pausedAtStep":"s1",'
        b'"iterationsUsed":2,"toolCallMessages":[{"role":"assistant","tool_calls":[{"id":"t"}]},'
        b'{"role":"tool","tool_call_id":"t","content":"c"}],"accumulatedOutputs":{"s0":1},"trace":true}'
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("result", "sent"),
    [
        (
            {"tool_call_id": "t", "output": "ok"},
            {"role": "tool", "tool_call_id": "t", "content": "ok"},
        ),
        (
            {"toolCallId": "t", "output": {"a": 1}},
            {"role": "tool", "tool_call_id": "t", "content": '{"a": 1}'},
        ),
        (
            {"role": "tool", "tool_call_id": "t", "content": "x"},
            {"role": "tool", "tool_call_id": "t", "content": "x"},
        ),
    ],
)
def test_tool_result_shapes_are_sent_in_the_openai_shape(
    kind: str, result: dict[str, Any], sent: dict[str, Any]
) -> None:
    wire = Wire(ok(paused_body()), ok(completed()))
    flow = wire.client(kind).flow("acme/support/triage")
    paused = run(flow.execute("hi"))
    run(paused.resume_sync([result]) if kind == "sync" else paused.resume([result]))
    last = json.loads(wire.requests[1].content)["toolCallMessages"][-1]
    if isinstance(result.get("output"), dict):
        assert json.loads(last["content"]) == {"a": 1}
        assert {k: v for k, v in last.items() if k != "content"} == {
            "role": "tool",
            "tool_call_id": "t",
        }
    else:
        assert last == sent


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_tool_call_id_is_refused_before_any_request(kind: str) -> None:
    wire = Wire(ok(paused_body()), ok(completed()))
    paused = run(wire.client(kind).flow("acme/support/triage").execute("hi"))
    bad = [{"role": "tool", "tool_call_id": "nope", "content": "x"}]
    with pytest.raises((ValueError, NoukaiError)):
        run(paused.resume_sync(bad) if kind == "sync" else paused.resume(bad))
    assert len(wire.requests) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_tool_round_limit(kind: str) -> None:
    wire = Wire(ok(paused_body()))
    flow = wire.client(kind).flow("acme/support/triage")

    def handler(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"role": "tool", "tool_call_id": c["id"], "content": "r"} for c in calls]

    with pytest.raises(ToolCallLimitError) as info:
        run(flow.execute("hi", tool_handler=handler, max_tool_rounds=2))
    assert str(info.value) == "Tool call loop exceeded max_tool_rounds=2"
    assert (info.value.code, info.value.execution_id, info.value.status_code) == (
        "TOOL_CALL_LIMIT_CLIENT",
        "e",
        None,
    )
    assert len(wire.requests) == 3
    wire.requests.clear()
    with pytest.raises(ToolCallLimitError):
        run(flow.execute("hi", tool_handler=handler, max_tool_rounds=0))
    assert len(wire.requests) == 1


def test_sync_client_refuses_an_async_tool_handler_before_any_request() -> None:
    wire = Wire(ok(completed()))

    async def handler(calls: Any) -> Any:
        return []

    with pytest.raises(TypeError, match="Sync client cannot use async tool_handler"):
        flow: Any = wire.client("sync").flow("acme/support/triage")
        flow.execute("hi", tool_handler=handler)
    assert not wire.requests


def test_wrong_resume_method_and_hand_built_results() -> None:
    sync_wire = Wire(ok(paused_body()))
    paused = sync_wire.client("sync").flow("acme/support/triage").execute("hi")
    assert isinstance(paused, PausedResult) and paused.requires_tool_calls is True
    with pytest.raises(TypeError, match="resume_sync"):
        run(paused.resume([]))
    async_wire = Wire(ok(paused_body()))
    apaused = run(async_wire.client("async").flow("acme/support/triage").execute("hi"))
    with pytest.raises(TypeError, match="AsyncNoukai"):
        apaused.resume_sync([])
    hand = PausedResult.model_validate(paused_body())
    with pytest.raises(RuntimeError, match="manually constructed"):
        hand.resume_sync([])
    with pytest.raises(RuntimeError, match="manually constructed"):
        run(hand.resume([]))


def test_long_tool_history_warns_visibly() -> None:
    history = [{"role": "user", "content": str(i)} for i in range(200)]
    wire = Wire(ok(paused_body(toolCallMessages=history)), ok(completed()))
    paused: Any = wire.client("sync").flow("acme/support/triage").execute("hi")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        paused.resume_sync([{"role": "tool", "tool_call_id": "t", "content": "c"}])
    assert any(
        issubclass(w.category, UserWarning) and "MESSAGES_TOO_LARGE" in str(w.message)
        for w in caught
    )


@pytest.mark.parametrize("kind", KINDS)
def test_result_attributes(kind: str) -> None:
    wire = Wire(ok(completed(extra="ignored")), ok(completed(status="failed", result=None)))
    flow = wire.client(kind).flow("acme/support/triage")
    result = run(flow.execute("hi"))
    assert isinstance(result, ExecuteResult)
    assert result.output == result.result == {"answer": 42}
    assert (result.status, result.flow_id, result.block_count, result.execution_id) == (
        "completed",
        "f",
        3,
        "e",
    )
    assert result.session_id is None and result.requires_tool_calls is False
    failed = run(flow.execute("hi"))
    assert failed.status == "failed" and failed.output is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "message"),
    [
        (
            401,
            {"detail": {"code": "UNAUTHENTICATED", "message": "bad key"}},
            AuthenticationError,
            "UNAUTHENTICATED",
            "bad key",
        ),
        (
            402,
            {"detail": {"code": "INSUFFICIENT_CREDITS", "message": "pay"}},
            InsufficientCreditsError,
            "INSUFFICIENT_CREDITS",
            "pay",
        ),
        (403, {"detail": "forbidden"}, PermissionDeniedError, None, "forbidden"),
        (
            404,
            {"detail": {"code": "FLOW_NOT_FOUND", "message": "nope"}},
            FlowNotFoundError,
            "FLOW_NOT_FOUND",
            "nope",
        ),
        (
            409,
            {"detail": {"code": "TOOL_ITERATION_LIMIT", "message": "limit"}},
            FlowExecutionError,
            "TOOL_ITERATION_LIMIT",
            "limit",
        ),
        (
            502,
            {"detail": {"code": "BYOK_KEY_REJECTED", "message": "byok"}},
            FlowExecutionError,
            "BYOK_KEY_REJECTED",
            "byok",
        ),
    ],
)
def test_status_mapping(
    kind: str, status: int, body: Any, cls: type[NoukaiError], code: str | None, message: str
) -> None:
    wire = Wire(
        httpx.Response(
            status,
            json=body,
            headers={"X-Request-ID": "req-9", "WWW-Authenticate": 'Bearer realm="n"'},
        )
    )
    with pytest.raises(cls) as info:
        run(wire.client(kind).flow("acme/support/triage").execute("hi"))
    error = info.value
    assert (error.status_code, error.code, error.message, str(error)) == (
        status,
        code,
        message,
        message,
    )
    assert error.request_id == "req-9" and error.execution_id is None
    assert error.response_body == body
    if isinstance(error, AuthenticationError):
        assert error.www_authenticate == 'Bearer realm="n"'


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>Bad Gateway</html>",
        b'{"error": 1}',
        b"[]",
        b'{"detail": [{"loc": ["body", "x"], "msg": "bad"}]}',
    ],
)
def test_unusual_error_bodies_give_human_messages(kind: str, body: bytes) -> None:
    wire = Wire(httpx.Response(422, content=body))
    with pytest.raises(FlowExecutionError) as info:
        run(wire.client(kind).flow("acme/support/triage").execute("hi"))
    text = str(info.value)
    assert text and text != "None" and "{'" not in text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "5"}, 5.0),
        ({"Retry-After": "5.5"}, 5.5),
        ({"Retry-After": "-1"}, None),
        ({"Retry-After": "soon"}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({}, None),
    ],
)
def test_rate_limits_are_raised_at_once_with_retry_after(
    kind: str, headers: dict[str, str], expected: float | None
) -> None:
    wire = Wire(httpx.Response(429, json={"detail": "slow down"}, headers=headers))
    client = wire.client(kind, max_retries=3)
    with pytest.raises(RateLimitError) as info:
        run(client.flow("acme/support/triage").run("e").trace())
    assert info.value.retry_after == expected
    assert len(wire.requests) == 1


def test_retry_after_as_an_http_date() -> None:
    import time
    from email.utils import formatdate

    wire = Wire(
        httpx.Response(429, headers={"Retry-After": formatdate(time.time() + 30, usegmt=True)})
    )
    with pytest.raises(RateLimitError) as info:
        wire.client("sync").flow("acme/support/triage").execute("hi")
    assert info.value.retry_after is not None and 25 <= info.value.retry_after <= 31


@pytest.mark.parametrize("kind", KINDS)
def test_post_5xx_is_never_retried(kind: str) -> None:
    wire = Wire(httpx.Response(503), ok(completed()))
    with pytest.raises(FlowExecutionError):
        run(wire.client(kind, max_retries=3).flow("acme/support/triage").execute("hi"))
    assert len(wire.requests) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_post_connect_errors_are_retried(kind: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    wire = Wire(refuse, ok(completed()))
    events: list[dict[str, Any]] = []
    result = run(
        wire.client(kind, log_handler=events.append).flow("acme/support/triage").execute("hi")
    )
    assert isinstance(result, ExecuteResult)
    assert len(wire.requests) == 2
    assert [e["phase"] for e in events] == ["request", "retry", "request", "response"]


@pytest.mark.parametrize("kind", KINDS)
def test_post_read_errors_are_not_retried(kind: str) -> None:
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("reset", request=request)

    wire = Wire(drop, ok(completed()))
    with pytest.raises(APIConnectionError):
        run(wire.client(kind, max_retries=3).flow("acme/support/triage").execute("hi"))
    assert len(wire.requests) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_log_events_shapes_and_secrecy(kind: str) -> None:
    events: list[dict[str, Any]] = []
    wire = Wire(httpx.Response(200, json=completed(), headers={"X-Request-ID": "rid"}))
    client = wire.client(kind, log_handler=events.append, log_payloads=True)
    run(client.flow("acme/support/triage").execute("hi"))
    request_event, response_event = events
    assert request_event == {
        "phase": "request",
        "method": "POST",
        "path": "/seq/acme/support/triage/execute",
        "attempt": 0,
        "request_body": {
            "message": "hi",
            "parameters": {},
            "iterationsUsed": 0,
            "accumulatedOutputs": {},
            "trace": False,
        },
    }
    assert response_event == {
        "phase": "response",
        "method": "POST",
        "path": "/seq/acme/support/triage/execute",
        "status_code": 200,
        "request_id": "rid",
        "attempt": 0,
        "response_body": completed(),
    }
    assert KEY not in repr(events)


@pytest.mark.parametrize("kind", KINDS)
def test_a_raising_log_handler_never_breaks_a_request(kind: str) -> None:
    def handler(event: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    wire = Wire(ok(completed()))
    result = run(wire.client(kind, log_handler=handler).flow("acme/support/triage").execute("hi"))
    assert isinstance(result, ExecuteResult)


@pytest.mark.parametrize("kind", KINDS)
def test_an_echoed_key_is_masked_in_errors_and_logs(kind: str) -> None:
    events: list[dict[str, Any]] = []
    echo = {"detail": f"bad key Bearer {KEY}"}
    wire = Wire(httpx.Response(401, json=echo))
    with pytest.raises(AuthenticationError) as info:
        run(
            wire.client(kind, log_handler=events.append, log_payloads=True)
            .flow("acme/support/triage")
            .execute("hi")
        )
    error = info.value
    for text in (
        str(error),
        repr(error),
        repr(error.response_body),
        repr(error.args),
        repr(events),
    ):
        assert KEY not in text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("version", "path"),
    [
        (None, "/execute"),
        ("production", "/execute"),
        ("draft", "/v0/execute"),
        (0, "/v0/execute"),
        (7, "/v7/execute"),
    ],
)
def test_version_routing(kind: str, version: Any, path: str) -> None:
    wire = Wire(ok(completed()))
    run(wire.client(kind).flow("acme/support/triage").execute("hi", version=version))
    assert wire.requests[0].url.path == "/api/v1/seq/acme/support/triage" + path


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("version", [True, False, -1, "3", "Draft", 1.0])
def test_invalid_versions_raise_before_any_request(kind: str, version: Any) -> None:
    wire = Wire(ok(completed()))
    flow = wire.client(kind).flow("acme/support/triage")
    with pytest.raises(ValueError, match="Invalid version"):
        run(flow.execute("hi", version=version))
    with pytest.raises(ValueError, match="Invalid version"):
        run(flow.execute_async("hi", version=version))
    with pytest.raises(ValueError):
        flow.steps("hi", version=version)
    assert not wire.requests


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("version", ["draft", 0])
def test_streams_refuse_the_draft_version_at_call_time(kind: str, version: Any) -> None:
    wire = Wire(ok(completed()))
    flow = wire.client(kind).flow("acme/support/triage")
    with pytest.raises(ValueError):
        flow.steps("hi", version=version)
    with pytest.raises(ValueError):
        flow.events("hi", version=version)
    assert not wire.requests


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("slug", "path"),
    [("a b/p#q/s?x", "/seq/a%20b/p%23q/s%3Fx/execute"), ("o/p/ü", "/seq/o/p/%C3%BC/execute")],
)
def test_path_segments_are_percent_encoded(kind: str, slug: str, path: str) -> None:
    wire = Wire(ok(completed()))
    run(wire.client(kind).flow(slug).execute("hi"))
    assert wire.requests[0].url.raw_path.decode() == "/api/v1" + path


@pytest.mark.parametrize("kind", KINDS)
def test_bad_ids_are_refused_before_any_request(kind: str) -> None:
    wire = Wire(ok(completed()))
    flow = wire.client(kind).flow("o/p/s")
    for bad in ("", "a/b", ".."):
        with pytest.raises(ValueError):
            run(flow.run(bad).trace())
    with pytest.raises(ValueError):
        run(flow.run("e").step_trace("x/y"))
    assert not wire.requests


@pytest.mark.parametrize("kind", KINDS)
def test_jobs_submit_poll_and_handle(kind: str) -> None:
    accepted = {"executionId": "job-1", "flowId": "f-1", "status": "queued", "blockCount": 1}
    status = {"executionId": "job-1", "status": "completed", "result": {"x": 1}}
    wire = Wire(ok(accepted, 202), ok(status))
    flow = wire.client(kind).flow("acme/support/triage")
    job = run(
        flow.execute_async(
            "hi",
            parameters={"k": 1},
            block_overrides={"b": {}},
            trace=True,
            version=3,
            session_id="s",
        )
    )
    assert (job.execution_id, job.flow_id) == ("job-1", "f-1")
    submit = wire.requests[0]
    assert submit.url.path == "/api/v1/seq/acme/support/triage/v3/jobs"
    assert (
        submit.content
        == b'{"message":"hi","parameters":{"k":1},"blockOverrides":{"b":{}},"iterationsUsed":0,"accumulatedOutputs":{},"trace":true}'
    )
    assert submit.headers["x-session-id"] == "s"
    result = run(job.wait(timeout=5, poll_interval=0.01))
    assert result.status == "completed"
    poll = wire.requests[1]
    assert poll.method == "GET" and poll.url.path == "/api/v1/seq/acme/support/triage/jobs/job-1"
    assert "x-session-id" not in poll.headers and poll.content == b""


@pytest.mark.parametrize("kind", KINDS)
def test_job_statuses_unknown_and_cancelled(kind: str) -> None:
    accepted = {"executionId": "job-1", "flowId": "f-1", "status": "queued", "blockCount": 1}
    wire = Wire(
        ok(accepted, 202),
        ok({"executionId": "job-1", "status": "queued_weird"}),
        ok({"executionId": "job-1", "status": "cancelled"}),
    )
    job = run(wire.client(kind).flow("acme/support/triage").execute_async("hi"))
    assert run(job.poll()).status == "queued_weird"
    assert run(job.wait(timeout=5, poll_interval=0.01)).status == "cancelled"


@pytest.mark.parametrize("kind", KINDS)
def test_job_wait_deadline_message(kind: str) -> None:
    accepted = {"executionId": "job-1", "flowId": "f-1", "status": "queued", "blockCount": 1}
    wire = Wire(ok(accepted, 202), ok({"executionId": "job-1", "status": "running"}))
    job = run(wire.client(kind).flow("acme/support/triage").execute_async("hi"))
    from noukai_sdk import APITimeoutError

    with pytest.raises(APITimeoutError) as info:
        run(job.wait(timeout=0.05, poll_interval=0.01))
    assert str(info.value).startswith("Job job-1 did not complete within 0.05")
    assert len(wire.requests) >= 2


@pytest.mark.parametrize("kind", KINDS)
def test_step_trace_queries_and_models(kind: str) -> None:
    step = {"stepId": "s", "attempt": 1, "status": "completed", "costUsd": "0.1"}
    wire = Wire(ok(step), ok({"stepId": "s", "attempts": [step]}), ok(step), ok(step))
    run_handle = wire.client(kind).flow("acme/support/triage").run("e")
    assert run_handle.execution_id == "e"
    latest = run(run_handle.step_trace("s"))
    all_attempts = run(run_handle.step_trace("s", attempt="all"))
    run(run_handle.step_trace("s", attempt=2, loop_index=3))
    run(run_handle.step_trace("s", loop_index=0))
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
    route = respx.post(EXEC).mock(return_value=httpx.Response(200, json=completed()))
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
        return httpx.Response(200, json=completed())

    http = httpx.Client(
        transport=httpx.MockTransport(answer), auth=("app", "pw"), follow_redirects=True
    )
    with RelayFlow("https://relay.example/old", client=http) as flow:
        result = flow.execute("hi")
    assert isinstance(result, ExecuteResult)
    assert [r.url.path for r in seen] == ["/old", "/new"]
    assert all(r.headers["authorization"].startswith("Basic ") for r in seen)


@pytest.mark.parametrize("kind", KINDS)
def test_a_log_handler_that_redacts_events_in_place_does_not_change_the_request(
    kind: str,
) -> None:
    def redact(event: dict[str, Any]) -> None:
        body = event.get("request_body")
        if body is not None:
            body["message"] = "***"
            body["parameters"]["password"] = "***"

    wire = Wire(ok(paused_body()), ok(completed()))
    flow = wire.client(kind, log_handler=redact, log_payloads=True).flow("acme/support/triage")
    parameters = {"password": "hunter2"}
    paused = run(flow.execute("secret", parameters=parameters))
    results = [{"role": "tool", "tool_call_id": "t", "content": "c"}]
    run(paused.resume_sync(results) if kind == "sync" else paused.resume(results))
    first, resumed = (json.loads(body) for body in wire.bodies())
    assert first["message"] == "secret"
    assert first["parameters"] == resumed["parameters"] == {"password": "hunter2"}
    assert parameters == {"password": "hunter2"}
