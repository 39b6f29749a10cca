"""execute(): URL, headers and body byte for byte, response parsing, structured messages.

Requests are captured with respx, or with an ``httpx.MockTransport`` inside an injected client
(``wire_double.Wire``) where the injected client's own settings are part of what is checked.
"""

from __future__ import annotations

import json
import platform
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, KEY, Kind, completed, make_client, paused, resolve
from wire_double import (
    COMPLETED,
    JOB_STARTED,
    KINDS,
    Wire,
    collect,
    ok,
    paused_body,
    short_completed,
)

import noukai_sdk
from noukai_sdk import (
    APIResponseValidationError,
    AsyncNoukai,
    ChatMessage,
    ExecuteResult,
    FlowExecutionError,
    Noukai,
    PausedResult,
)

URL = "/seq/acme/spelling/grade-3/execute"


def compact(text: str) -> bytes:
    """The CONTRACT's example JSON as the SDK sends it (compact separators, same key order)."""
    return json.dumps(json.loads(text), separators=(",", ":")).encode()


def run_execute(kind: Kind, response: httpx.Response, **kwargs: Any) -> tuple[Any, httpx.Request]:
    client = make_client(kind)
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(URL).mock(return_value=response)
        result = resolve(client.flow("acme/spelling/grade-3").execute(**kwargs))
    return result, route.calls.last.request


EXEC = f"{BASE}/seq/acme/support/triage/execute"


def _utf16(text: str) -> bytes:
    return text.encode("utf-16")


def _with_bom(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.encode()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_minimal_body_and_headers(kind: Kind) -> None:
    result, request = run_execute(
        kind, httpx.Response(200, json=completed()), message="The cat sat on the mat."
    )
    assert request.content == compact(
        '{"message": "The cat sat on the mat.", "parameters": {}, "iterationsUsed": 0, "accumulatedOutputs": {}, "trace": false}'
    )
    assert str(request.url) == BASE + URL
    headers = request.headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["x-noukai-api-version"] == "2026-05-31"
    assert headers["accept"] == "application/json"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == (
        f"noukai-python/{noukai_sdk.__version__} (httpx/{httpx.__version__}; "
        f"python/{platform.python_version()}; {platform.system()})"
    )
    assert "x-session-id" not in headers
    assert isinstance(result, ExecuteResult)
    assert result.output == result.result == {"answer": 42}
    assert (result.flow_id, result.block_count, result.execution_id) == ("f-xyz", 3, "exec-1")
    assert result.requires_tool_calls is False
    assert result.session_id is None


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_body_without_message(kind: Kind) -> None:
    _, request = run_execute(kind, httpx.Response(200, json=completed()))
    assert request.content == compact(
        '{"parameters": {}, "iterationsUsed": 0, "accumulatedOutputs": {}, "trace": false}'
    )


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_full_body(kind: Kind) -> None:
    _, request = run_execute(
        kind,
        httpx.Response(200, json=completed()),
        message="",
        parameters={"a": 1},
        block_overrides={"step-1": {"model": "anthropic/claude-haiku-4-5"}},
        attachments=[{"url": "https://x/y.png", "mime_type": "image/png"}],
        tools=[{"type": "function", "function": {"name": "search"}}],
        tool_choice="auto",
        trace=True,
    )
    assert request.content == compact(
        '{"message": "", "parameters": {"a": 1}, "blockOverrides": {"step-1": {"model": "anthropic/claude-haiku-4-5"}},'
        ' "attachments": [{"url": "https://x/y.png", "mime_type": "image/png"}],'
        ' "tools": [{"type": "function", "function": {"name": "search"}}], "toolChoice": "auto",'
        ' "iterationsUsed": 0, "accumulatedOutputs": {}, "trace": true}'
    )


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_session_id_header_precedence(kind: Kind) -> None:
    client = make_client(kind, session_id="client-default")
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(URL).respond(200, json=completed())
        flow = client.flow("acme/spelling/grade-3")
        first = resolve(flow.execute("hi"))
        second = resolve(flow.execute("hi", session_id="per-call"))
        third = resolve(flow.execute("hi", session_id=""))
    sent = [call.request.headers.get("x-session-id") for call in route.calls]
    assert sent == ["client-default", "per-call", ""]
    assert [first.session_id, second.session_id, third.session_id] == [
        "client-default",
        "per-call",
        "",
    ]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_failed_status_is_returned(kind: Kind) -> None:
    result, _ = run_execute(kind, httpx.Response(200, json=completed(status="failed", result=None)))
    assert isinstance(result, ExecuteResult)
    assert result.status == "failed"
    assert result.output is None


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_paused_result_without_handler(kind: Kind) -> None:
    result, _ = run_execute(kind, httpx.Response(200, json=paused()), message="search for X")
    assert isinstance(result, PausedResult)
    assert result.requires_tool_calls is True
    assert result.tool_calls[0]["id"] == "tc-1"
    assert result.paused_at_step == "step-1"
    assert result.accumulated_outputs == {"step-0": {"context": "..."}}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"<html>502 from proxy</html>", "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({"status": "weird", "flowId": "f", "blockCount": 1}).encode(), "status"),
        (json.dumps({"status": "completed"}).encode(), "flowId"),
    ],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_unexpected_2xx_bodies_raise_validation_error(
    kind: Kind, content: bytes, problem: str
) -> None:
    response = httpx.Response(200, content=content, headers={"X-Request-ID": "req-9"})
    with pytest.raises(APIResponseValidationError) as info:
        run_execute(kind, response)
    error = info.value
    assert error.raw_body == content
    assert error.status_code == 200
    assert error.request_id == "req-9"
    assert problem in str(error)
    assert isinstance(error, noukai_sdk.NoukaiError)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_messages_serialisation_matches_contract(kind: Kind) -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "a"}]},
        {"role": "tool", "content": "r", "tool_call_id": "a", "extra": 1, "nul": None},
    ]
    _, request = run_execute(
        kind, httpx.Response(200, json=completed()), messages=messages, tools=[{"t": 1}]
    )
    assert request.content == (
        b'{"messages":[{"role":"user","content":"hi"},{"role":"assistant","toolCalls":[{"id":"a"}]},'
        b'{"role":"tool","content":"r","toolCallId":"a","extra":1}],"parameters":{},"tools":[{"t":1}],'
        b'"iterationsUsed":0,"accumulatedOutputs":{},"trace":false}'
    )


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_chat_message_objects_are_accepted(kind: Kind) -> None:
    _, request = run_execute(
        kind,
        httpx.Response(200, json=completed()),
        messages=[ChatMessage(role="user", content="hi"), {"role": "assistant", "content": "yo"}],
    )
    assert json.loads(request.content)["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "yo"},
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"message": "hi", "messages": [{"role": "user", "content": "x"}]}, "not both"),
        ({"message": "", "messages": [{"role": "user", "content": "x"}]}, "not both"),
        ({"messages": [{"content": "x"}]}, "messages[0] is missing a string `role`"),
        ({"messages": [{"role": "user"}, {"role": 3}]}, "messages[1] is missing a string `role`"),
        ({"messages": ["hello"]}, "messages[0] is missing a string `role`"),
        ({"messages": [{"role": "system", "content": "x"}]}, "MESSAGES_ROLE_INVALID"),
        ({"messages": [{"role": "User", "content": "x"}]}, "MESSAGES_ROLE_INVALID"),
        ({"messages": [{"role": "function", "content": "x"}]}, "MESSAGES_ROLE_INVALID"),
    ],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_messages_rules_raise_before_any_request(
    kind: Kind, kwargs: dict[str, Any], message: str
) -> None:
    client = make_client(kind)
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.route().respond(200, json=completed())
        with pytest.raises(ValueError) as info:
            resolve(client.flow("acme/spelling/grade-3").execute(**kwargs))
    assert message in str(info.value)
    assert not route.called


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_empty_messages_count_as_absent(kind: Kind) -> None:
    _, request = run_execute(kind, httpx.Response(200, json=completed()), message="hi", messages=[])
    assert json.loads(request.content)["message"] == "hi"
    assert "messages" not in json.loads(request.content)


def test_large_messages_warn_but_are_sent() -> None:
    big = [{"role": "user", "content": "x" * 900_100}]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, request = run_execute("sync", httpx.Response(200, json=completed()), messages=big)
    assert any(
        issubclass(w.category, UserWarning) and "1,000,000" in str(w.message) for w in caught
    )
    assert any(w.filename == __file__ for w in caught)
    assert len(request.content) > 900_000


def test_small_messages_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run_execute(
            "sync",
            httpx.Response(200, json=completed()),
            messages=[{"role": "user", "content": "x" * 1000}],
        )


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_per_call_timeout_is_applied_and_validated(kind: Kind) -> None:
    client = make_client(kind)
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(URL).respond(200, json=completed())
        resolve(client.flow("acme/spelling/grade-3").execute("hi", timeout=4.5))
        timeouts = route.calls.last.request.extensions["timeout"]
        assert timeouts == {"connect": 4.5, "read": 4.5, "write": 4.5, "pool": 4.5}
        resolve(client.flow("acme/spelling/grade-3").execute("hi"))
        assert route.calls.last.request.extensions["timeout"]["read"] == 300.0
    for bad in (0, -2):
        with pytest.raises(ValueError, match="timeout must be > 0"):
            resolve(client.flow("acme/spelling/grade-3").execute("hi", timeout=bad))


def test_reserved_headers_cannot_be_overridden_by_session_id_mechanism() -> None:
    from noukai_sdk._transport import allowed_request_headers

    assert allowed_request_headers(
        {
            "authorization": "x",
            "X-Noukai-API-Version": "1",
            "User-Agent": "u",
            "x-request-id": "r",
            "Content-Type": "t",
            "Cookie": "c",
            "X-Session-Id": "s",
        }
    ) == {"X-Session-Id": "s"}


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


@respx.mock
def test_respx_sees_the_same_traffic() -> None:
    route = respx.post(EXEC).mock(return_value=httpx.Response(200, json=short_completed()))
    with Noukai(KEY) as client:
        client.flow("acme/support/triage").execute("hi")
    assert route.called


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", ["é", "a\nb", "a\r\nX-Evil: 1", "nul\x00"])
def test_a_session_id_that_cannot_be_a_header_is_refused_before_any_request(
    kind: str, bad: str
) -> None:
    wire = Wire(httpx.Response(200, json=COMPLETED))
    flow = wire.client(kind).flow("o/p/s")
    with pytest.raises(ValueError, match="X-Session-Id"):
        resolve(flow.execute("hi", session_id=bad))
    with pytest.raises(ValueError, match="X-Session-Id"):
        resolve(flow.execute_async("hi", session_id=bad))
    with pytest.raises(ValueError, match="X-Session-Id"):
        collect(kind, flow.events("hi", session_id=bad))
    assert not wire.requests


def test_a_client_default_session_id_is_checked_at_construction() -> None:
    with pytest.raises(ValueError, match="X-Session-Id"):
        Noukai(KEY, session_id="line\nbreak")
    with pytest.raises(TypeError):
        AsyncNoukai(KEY, session_id=5)  # type: ignore[arg-type]
    assert Noukai(KEY, session_id="").session_id == ""
    assert Noukai(KEY, session_id="a b\tc").session_id == "a b\tc"


@pytest.mark.parametrize("kind", KINDS)
def test_positional_timeouts_of_the_0_2_0_signatures(kind: str) -> None:
    step = {"stepId": "s", "attempt": 2, "status": "completed"}
    trace: dict[str, Any] = {
        "flowRun": {"id": "r", "flowId": "f", "status": "completed"},
        "steps": [],
    }
    wire = Wire(
        httpx.Response(200, json=trace),
        httpx.Response(200, json=step),
        httpx.Response(202, json=JOB_STARTED),
        httpx.Response(200, json={"executionId": "job-1", "status": "completed"}),
    )
    flow = wire.client(kind).flow("o/p/s")
    handle = flow.run("e")
    assert resolve(handle.trace(5.0)).flow_run.id == "r"
    assert resolve(handle.step_trace("s", 2, 1, 4.0)).attempt == 2
    job = resolve(flow.execute_async("hi"))
    assert resolve(job.poll(3.0)).status == "completed"
    assert resolve(job.wait(2.0, 0.01)).status == "completed"
    timeouts = [r.extensions["timeout"]["read"] for r in wire.requests[:4]]
    assert timeouts[:2] == [5.0, 4.0]
    assert timeouts[3] == 3.0
    assert str(wire.requests[1].url).endswith("/runs/e/steps/s/trace?attempt=2&loop_index=1")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", [0, -1, "5", True])
def test_per_call_timeouts_are_validated(kind: str, bad: Any) -> None:
    wire = Wire(httpx.Response(200, json=COMPLETED))
    flow = wire.client(kind).flow("o/p/s")
    with pytest.raises((ValueError, TypeError)):
        resolve(flow.execute("hi", timeout=bad))
    with pytest.raises((ValueError, TypeError)):
        resolve(flow.run("e").trace(timeout=bad))
    assert not wire.requests


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("encode", [_utf16, _with_bom])
def test_json_bodies_in_other_unicode_encodings_are_read_everywhere(
    kind: str, encode: Callable[[str], bytes]
) -> None:
    status = json.dumps({"executionId": "job-1", "status": "completed", "result": "ü"})
    wire = Wire(
        httpx.Response(202, content=encode(json.dumps(JOB_STARTED))),
        httpx.Response(200, content=encode(status)),
    )
    job = resolve(wire.client(kind).flow("o/p/s").execute_async("hi"))
    assert resolve(job.poll()).result == "ü"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("argument", ["attachments", "tools"])
def test_a_single_dict_where_a_list_belongs_is_refused(kind: str, argument: str) -> None:
    wire = Wire(httpx.Response(200, json=COMPLETED))
    flow = wire.client(kind).flow("o/p/s")
    with pytest.raises(TypeError, match=argument):
        resolve(flow.execute("hi", **{argument: {"url": "https://x/a.png"}}))
    assert not wire.requests
