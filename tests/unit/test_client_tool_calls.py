"""The tool-call loop on execute: auto and manual resume, limits, result shapes, resume bodies."""

from __future__ import annotations

import json
import warnings
from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, Kind, completed, make_client, paused, resolve, resume

from noukai_sdk import (
    ExecuteResult,
    Noukai,
    PausedResult,
    ToolCallLimitError,
)

URL = "/seq/o/p/s/v2/execute"


def tool_results(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"role": "tool", "tool_call_id": call["id"], "content": "c"} for call in calls]


async def async_tool_results(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return tool_results(calls)


PAUSE = paused(
    executionId="e",
    pausedAtStep="s1",
    iterationsUsed=2,
    toolCallMessages=[{"role": "assistant", "tool_calls": [{"id": "t"}]}],
    toolCalls=[{"id": "t", "function": {"name": "x", "arguments": "{}"}}],
    accumulatedOutputs={"s0": 1},
)
FULL_CALL: dict[str, Any] = {
    "parameters": {"p": 1},
    "block_overrides": {"b": {}},
    "attachments": [{"url": "u"}],
    "tools": [{"t": 1}],
    "tool_choice": {"type": "function", "function": {"name": "x"}},
    "trace": True,
    "version": 2,
}
# The resume body the server is known to accept, as sent (compact separators).
RESUME_BODY = (
    b'{"parameters":{"p":1},"blockOverrides":{"b":{}},"attachments":[{"url":"u"}],"tools":[{"t":1}],'
    b'"toolChoice":{"type":"function","function":{"name":"x"}},"executionId":"e","pausedAtStep":"s1",'
    b'"iterationsUsed":2,"toolCallMessages":[{"role":"assistant","tool_calls":[{"id":"t"}]},'
    b'{"role":"tool","tool_call_id":"t","content":"c"}],"accumulatedOutputs":{"s0":1},"trace":true}'
)


@pytest.mark.parametrize(
    ("kind", "handler"),
    [("sync", tool_results), ("async", tool_results), ("async", async_tool_results)],
)
def test_auto_resume_sends_the_contract_body_with_session_header(kind: Kind, handler: Any) -> None:
    client = make_client(kind, session_id="sess-1")
    seen: list[Any] = []

    def recording_handler(calls: list[dict[str, Any]]) -> Any:
        seen.append(calls)
        return handler(calls)

    with respx.mock(base_url=BASE) as mock:
        route = mock.post(URL).mock(
            side_effect=[httpx.Response(200, json=PAUSE), httpx.Response(200, json=completed())]
        )
        result = resolve(client.flow("o/p/s").execute(tool_handler=recording_handler, **FULL_CALL))
    assert isinstance(result, ExecuteResult)
    assert result.session_id == "sess-1"
    assert seen == [PAUSE["toolCalls"]]
    assert route.calls[1].request.content == RESUME_BODY
    assert [call.request.headers.get("x-session-id") for call in route.calls] == [
        "sess-1",
        "sess-1",
    ]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_manual_resume(kind: Kind) -> None:
    client = make_client(kind, session_id="sess-1")
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(URL).mock(
            side_effect=[
                httpx.Response(200, json=PAUSE),
                httpx.Response(200, json=PAUSE),
                httpx.Response(200, json=completed()),
            ]
        )
        first = resolve(client.flow("o/p/s").execute(**FULL_CALL))
        assert isinstance(first, PausedResult)
        second = resume(kind, first, tool_results(first.tool_calls))
        assert isinstance(second, PausedResult)
        assert second.session_id == "sess-1"
        final = resume(kind, second, tool_results(second.tool_calls))
    assert isinstance(final, ExecuteResult)
    assert final.session_id == "sess-1"
    assert route.calls[1].request.content == RESUME_BODY


def test_wrong_resume_method_names_the_right_one() -> None:
    for kind, wrong, right in (
        ("sync", "resume", "resume_sync"),
        ("async", "resume_sync", "resume"),
    ):
        client = make_client(kind)  # type: ignore[arg-type]
        with respx.mock(base_url=BASE) as mock:
            mock.post(URL).respond(200, json=PAUSE)
            result = resolve(client.flow("o/p/s").execute(version=2))
        with pytest.raises(TypeError, match=right):
            resolve(getattr(result, wrong)(tool_results(result.tool_calls)))


def test_manually_constructed_paused_result_cannot_resume() -> None:
    handmade = PausedResult.model_validate(PAUSE)
    with pytest.raises(RuntimeError, match="manually constructed"):
        handmade.resume_sync([])
    with pytest.raises(RuntimeError, match="manually constructed"):
        resolve(handmade.resume([]))


def test_sync_client_rejects_async_handler_before_any_request() -> None:
    client = Noukai("nk_x")
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        route = mock.route().respond(200, json=PAUSE)
        with pytest.raises(TypeError, match="Sync client cannot use async tool_handler"):
            client.flow("o/p/s").execute(tool_handler=async_tool_results)  # type: ignore[arg-type]
    assert not route.called


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("limit", [0, 1, 3])
def test_max_tool_rounds(kind: Kind, limit: int) -> None:
    client = make_client(kind)
    calls: list[int] = []

    def handler(tool_calls: list[dict[str, Any]]) -> Any:
        calls.append(1)
        return tool_results(tool_calls)

    with respx.mock(base_url=BASE) as mock:
        route = mock.post(URL).respond(200, json=PAUSE)
        with pytest.raises(ToolCallLimitError) as info:
            resolve(
                client.flow("o/p/s").execute(version=2, tool_handler=handler, max_tool_rounds=limit)
            )
    assert len(calls) == limit
    assert route.call_count == limit + 1
    error = info.value
    assert str(error) == f"Tool call loop exceeded max_tool_rounds={limit}"
    assert (error.code, error.execution_id, error.status_code) == (
        "TOOL_CALL_LIMIT_CLIENT",
        "e",
        None,
    )


@pytest.mark.parametrize(
    "result",
    [
        {"role": "tool", "tool_call_id": "t", "content": "c"},
        {"tool_call_id": "t", "output": "c"},
        {"toolCallId": "t", "output": "c"},
    ],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_three_result_shapes_are_sent_in_openai_shape(kind: Kind, result: dict[str, Any]) -> None:
    client = make_client(kind)
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(URL).mock(
            side_effect=[httpx.Response(200, json=PAUSE), httpx.Response(200, json=completed())]
        )
        resolve(client.flow("o/p/s").execute(tool_handler=lambda calls: [result], **FULL_CALL))
    assert route.calls[1].request.content == RESUME_BODY


def test_non_string_output_is_json_encoded() -> None:
    client = make_client("sync")
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(URL).mock(
            side_effect=[httpx.Response(200, json=PAUSE), httpx.Response(200, json=completed())]
        )
        client.flow("o/p/s").execute(
            version=2,
            tool_handler=lambda calls: [{"tool_call_id": "t", "output": {"n": 1, "é": [True]}}],
        )
    sent = json.loads(route.calls[1].request.content)["toolCallMessages"][-1]
    assert sent == {"role": "tool", "tool_call_id": "t", "content": '{"n": 1, "é": [true]}'}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_unknown_tool_call_id_is_rejected_before_the_resume(kind: Kind) -> None:
    client = make_client(kind)
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(URL).respond(200, json=PAUSE)
        result = resolve(client.flow("o/p/s").execute(version=2))
        with pytest.raises(ValueError, match="'nope', which is not pending"):
            resume(kind, result, [{"tool_call_id": "nope", "output": "x"}])
        with pytest.raises(ValueError, match="no tool_call_id"):
            resume(kind, result, [{"output": "x"}])
    assert route.call_count == 1


def test_long_history_warns_visibly_at_the_caller() -> None:
    history = [{"role": "user", "content": str(i)} for i in range(200)]
    client = make_client("sync")
    with respx.mock(base_url=BASE) as mock:
        mock.post(URL).mock(
            side_effect=[
                httpx.Response(200, json={**PAUSE, "toolCallMessages": history}),
                httpx.Response(200, json=completed()),
            ]
        )
        result = client.flow("o/p/s").execute(version=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            result.resume_sync([{"tool_call_id": "t", "output": "x"}])
    assert [w.category for w in caught] == [UserWarning]
    assert "MESSAGES_TOO_LARGE" in str(caught[0].message)
    assert caught[0].filename == __file__
