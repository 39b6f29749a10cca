"""execute(): URL, headers and body byte for byte, response parsing, structured messages."""

from __future__ import annotations

import json
import platform
import warnings
from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, KEY, Kind, completed, make_client, paused, resolve

import noukai_sdk
from noukai_sdk import APIResponseValidationError, ChatMessage, ExecuteResult, PausedResult

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
