"""RelayFlow / AsyncRelayFlow: keyless calls through a relay URL, with the SDK's own tool loop."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from relay_payloads import COMPLETED, PAUSED, RELAY
from wire_double import short_completed

from noukai_sdk import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncRelayFlow,
    AuthenticationError,
    ExecuteResult,
    FlowExecutionError,
    PausedResult,
    RateLimitError,
    RelayExecuteTransport,
    RelayFlow,
    RelaySyncExecuteTransport,
    ToolCallLimitError,
)

TOOLS = [{"type": "function", "function": {"name": "get_weather"}}]


def weather(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"toolCallId": call["id"], "output": {"sky": "clear"}} for call in calls]


async def async_weather(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return weather(calls)


@respx.mock
def test_execute_posts_the_execute_body_to_the_url_without_any_sdk_header() -> None:
    route = respx.post(RELAY).respond(200, json=COMPLETED)
    with RelayFlow(RELAY) as flow:
        result = flow.execute("hi", parameters={"lang": "en"}, trace=True)
    assert isinstance(result, ExecuteResult)
    assert result.output == "done"
    assert result.session_id is None
    request = route.calls.last.request
    assert request.content == (
        b'{"message":"hi","parameters":{"lang":"en"},"iterationsUsed":0,'
        b'"accumulatedOutputs":{},"trace":true}'
    )
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("python-httpx/")
    for header in ("authorization", "x-noukai-api-version", "x-session-id"):
        assert header not in request.headers


@respx.mock
def test_structured_messages_are_sent_like_a_direct_execute() -> None:
    route = respx.post(RELAY).respond(200, json=COMPLETED)
    with RelayFlow(RELAY) as flow:
        flow.execute(messages=[{"role": "user", "content": "hi"}])
    assert json.loads(route.calls.last.request.content) == {
        "messages": [{"role": "user", "content": "hi"}],
        "parameters": {},
        "iterationsUsed": 0,
        "accumulatedOutputs": {},
        "trace": False,
    }


def test_message_rules_are_checked_before_any_request() -> None:
    with RelayFlow(RELAY) as flow:
        with pytest.raises(ValueError, match="role"):
            flow.execute(messages=[{"role": "system", "content": "obey"}])
        with pytest.raises(ValueError, match="not both"):
            flow.execute("hi", messages=[{"role": "user", "content": "hi"}])


@respx.mock
def test_tool_loop_resumes_through_the_relay_with_normalised_results() -> None:
    route = respx.post(RELAY).mock(
        side_effect=[httpx.Response(200, json=PAUSED), httpx.Response(200, json=COMPLETED)]
    )
    with RelayFlow(RELAY) as flow:
        result = flow.execute("Paris", tools=TOOLS, tool_handler=weather)
    assert result.output == "done"
    resume = route.calls[1].request
    assert "x-session-id" not in resume.headers
    assert json.loads(resume.content) == {
        "parameters": {},
        "tools": TOOLS,
        "executionId": "exec-1",
        "pausedAtStep": "lookup",
        "iterationsUsed": 1,
        "toolCallMessages": [
            *PAUSED["toolCallMessages"],
            {"role": "tool", "tool_call_id": "call-1", "content": '{"sky": "clear"}'},
        ],
        "accumulatedOutputs": {"intro": "hi"},
        "trace": False,
    }


@respx.mock
async def test_async_tool_loop_with_an_async_handler() -> None:
    route = respx.post(RELAY).mock(
        side_effect=[httpx.Response(200, json=PAUSED), httpx.Response(200, json=COMPLETED)]
    )
    async with AsyncRelayFlow(RELAY) as flow:
        result = await flow.execute("Paris", tools=TOOLS, tool_handler=async_weather)
    assert result.output == "done"
    assert route.call_count == 2


@respx.mock
def test_manual_resume_sync() -> None:
    respx.post(RELAY).mock(
        side_effect=[httpx.Response(200, json=PAUSED), httpx.Response(200, json=COMPLETED)]
    )
    with RelayFlow(RELAY) as flow:
        outcome = flow.execute("Paris", tools=TOOLS)
        assert isinstance(outcome, PausedResult)
        final = outcome.resume_sync([{"tool_call_id": "call-1", "output": "warm"}])
    assert isinstance(final, ExecuteResult)


@respx.mock
async def test_manual_resume_async() -> None:
    respx.post(RELAY).mock(
        side_effect=[httpx.Response(200, json=PAUSED), httpx.Response(200, json=COMPLETED)]
    )
    async with AsyncRelayFlow(RELAY) as flow:
        outcome = await flow.execute("Paris", tools=TOOLS)
        assert isinstance(outcome, PausedResult)
        final = await outcome.resume([{"role": "tool", "tool_call_id": "call-1", "content": "x"}])
    assert isinstance(final, ExecuteResult)


@respx.mock
def test_unknown_tool_call_id_fails_before_the_resume_is_sent() -> None:
    route = respx.post(RELAY).respond(200, json=PAUSED)
    with RelayFlow(RELAY) as flow:
        outcome = flow.execute("Paris", tools=TOOLS)
        assert isinstance(outcome, PausedResult)
        with pytest.raises(ValueError, match="not pending"):
            outcome.resume_sync([{"tool_call_id": "nope", "output": "x"}])
    assert route.call_count == 1


@respx.mock
def test_round_limit_zero_raises_at_the_first_pause() -> None:
    respx.post(RELAY).respond(200, json=PAUSED)
    with RelayFlow(RELAY) as flow, pytest.raises(ToolCallLimitError) as info:
        flow.execute("Paris", tools=TOOLS, tool_handler=weather, max_tool_rounds=0)
    assert info.value.code == "TOOL_CALL_LIMIT_CLIENT"
    assert info.value.execution_id == "exec-1"


def test_sync_relay_flow_refuses_an_async_handler() -> None:
    with (
        RelayFlow(RELAY) as flow,
        pytest.raises(TypeError, match="Sync RelayFlow cannot use async tool_handler"),
    ):
        flow.execute("Paris", tool_handler=async_weather)  # type: ignore[arg-type]


@respx.mock
def test_rate_limit_carries_the_relays_retry_after_and_request_id() -> None:
    respx.post(RELAY).respond(
        429,
        json={"detail": {"code": "RATE_LIMITED", "message": "slow down"}},
        headers={"Retry-After": "7", "X-Request-ID": "req-9"},
    )
    with RelayFlow(RELAY) as flow, pytest.raises(RateLimitError) as info:
        flow.execute("hi")
    assert info.value.retry_after == 7.0
    assert info.value.request_id == "req-9"
    assert info.value.code == "RATE_LIMITED"


@respx.mock
def test_authentication_error_carries_www_authenticate() -> None:
    respx.post(RELAY).respond(
        401, json={"detail": "login first"}, headers={"WWW-Authenticate": "Bearer"}
    )
    with RelayFlow(RELAY) as flow, pytest.raises(AuthenticationError) as info:
        flow.execute("hi")
    assert info.value.www_authenticate == "Bearer"
    assert info.value.message == "login first"


@pytest.mark.parametrize(
    ("status", "detail"),
    [(413, "BODY_TOO_LARGE"), (502, "UPSTREAM_UNAVAILABLE"), (400, "INVALID_JSON")],
)
@respx.mock
def test_relay_refusals_map_to_flow_execution_error(status: int, detail: str) -> None:
    respx.post(RELAY).respond(status, json={"detail": detail})
    with RelayFlow(RELAY) as flow, pytest.raises(FlowExecutionError) as info:
        flow.execute("hi")
    assert (info.value.status_code, info.value.code, info.value.message) == (status, None, detail)


@respx.mock
def test_a_redirect_is_an_error_not_followed() -> None:
    respx.post(RELAY).respond(302, headers={"Location": "https://elsewhere.example/"})
    with RelayFlow(RELAY) as flow, pytest.raises(FlowExecutionError) as info:
        flow.execute("hi")
    assert info.value.status_code == 302


@respx.mock
def test_a_non_json_success_is_a_response_validation_error() -> None:
    respx.post(RELAY).respond(200, text="<html>login</html>")
    with RelayFlow(RELAY) as flow, pytest.raises(APIResponseValidationError) as info:
        flow.execute("hi")
    assert info.value.raw_body == b"<html>login</html>"
    assert info.value.status_code == 200


@respx.mock
def test_a_success_missing_fields_is_a_response_validation_error() -> None:
    respx.post(RELAY).respond(200, json={})
    with RelayFlow(RELAY) as flow, pytest.raises(APIResponseValidationError):
        flow.execute("hi")


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
    ],
)
@respx.mock
def test_network_failures_are_sdk_errors(failure: Exception, expected: type[Exception]) -> None:
    route = respx.post(RELAY).mock(side_effect=failure)
    with RelayFlow(RELAY) as flow, pytest.raises(expected):
        flow.execute("hi")
    assert route.call_count == 1  # never retried


@respx.mock
async def test_async_network_failure_is_an_sdk_error() -> None:
    respx.post(RELAY).mock(side_effect=httpx.ConnectError("refused"))
    async with AsyncRelayFlow(RELAY) as flow:
        with pytest.raises(APIConnectionError):
            await flow.execute("hi")


def test_one_pool_per_relay_flow_and_an_injected_client_stays_open() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=COMPLETED)

    injected = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://app.example")
    with RelayFlow("/agent/execute", client=injected) as flow:
        flow.execute("one")
        flow.execute("two")
    assert [str(r.url) for r in requests] == [RELAY, RELAY]
    assert not injected.is_closed
    injected.close()


@respx.mock
def test_a_closed_relay_flow_refuses_further_calls() -> None:
    respx.post(RELAY).respond(200, json=COMPLETED)
    flow = RelayFlow(RELAY)
    flow.close()
    flow.close()
    with pytest.raises(RuntimeError, match="closed"):
        flow.execute("hi")


@pytest.mark.parametrize("timeout", [0, -1.0])
def test_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        RelayFlow(RELAY, timeout=timeout)


@respx.mock
def test_sync_transport_returns_status_and_json_object() -> None:
    respx.post(RELAY).mock(
        side_effect=[
            httpx.Response(422, json={"detail": "bad"}),
            httpx.Response(200, text="not json"),
        ]
    )
    with RelaySyncExecuteTransport(RELAY) as transport:
        assert transport.send({"message": "hi"}) == (422, {"detail": "bad"})
        assert transport.send({"message": "hi"}) == (200, {})


@respx.mock
async def test_async_transport_returns_status_and_json_object() -> None:
    route = respx.post(RELAY).respond(200, json=COMPLETED)
    async with RelayExecuteTransport(RELAY) as transport:
        assert await transport.send({"message": "hi"}) == (200, COMPLETED)
    assert route.calls.last.request.content == b'{"message":"hi"}'


def test_import_noukai_sdk_does_not_load_the_relay(fresh_import: dict[str, Any]) -> None:
    assert [m for m in fresh_import["import"] if "relay" in m] == []
    after = fresh_import["relay_flow"]
    assert "noukai_sdk._relay" in after and "noukai_sdk.adapters.relay" not in after


def test_the_injected_client_must_match_the_flavour() -> None:
    wrong = httpx.AsyncClient()
    with pytest.raises(TypeError, match=r"httpx\.Client for RelayFlow"):
        RelayFlow(RELAY, client=wrong)  # type: ignore[arg-type]


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
