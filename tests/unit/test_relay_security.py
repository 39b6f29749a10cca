"""Relay safety in isolation: authorize answers, the allow-list, resume tokens, trace context bounds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from flask import Flask
from relay_payloads import COMPLETED, RELAY
from relay_payloads import PAUSED as CLIENT_PAUSED
from starlette.applications import Starlette
from starlette.testclient import TestClient

from noukai_sdk import (
    APIConnectionError,
    AsyncNoukai,
    AsyncRelayFlow,
    ExecuteResult,
    Noukai,
    PausedResult,
    RelayFlow,
)
from noukai_sdk._relay._carry import MAX_REMEMBERED_PAUSES, ResumeTokens
from noukai_sdk._relay._hooks import wait_for
from noukai_sdk._relay._tokens import ResumeSigner
from noukai_sdk._relay._trace_context import trace_context
from noukai_sdk.adapters.relay import DEFAULT_RELAY_PATH, flow_relay_blueprint, mount_flow_relay

KEY = "nk_test_relay_0123456789"
SECRET = "s" * 32
PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
PAUSED: dict[str, Any] = {
    **CLIENT_PAUSED,
    "toolCallMessages": [
        {"role": "user", "content": "Paris"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call-1"}]},
    ],
}
RESULT = {"role": "tool", "tool_call_id": "call-1", "content": "sunny"}


def resume_of(pause: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {
        "executionId": pause["executionId"],
        "pausedAtStep": pause["pausedAtStep"],
        "iterationsUsed": pause["iterationsUsed"],
        "toolCallMessages": [*pause["toolCallMessages"], RESULT],
        "accumulatedOutputs": pause["accumulatedOutputs"],
        "relayToken": pause.get("relayToken"),
    }
    body.update(changes)
    return body


def upstream_pausing(sent: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        resuming = "executionId" in json.loads(request.content)
        return httpx.Response(200, json=COMPLETED if resuming else PAUSED)

    return answer


def flask_relay(
    authorize: Callable[[Any], Any], sent: list[httpx.Request], **options: Any
) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    app = Flask(__name__)
    client = Noukai(
        KEY, http_client=httpx.Client(transport=httpx.MockTransport(upstream_pausing(sent)))
    )
    app.register_blueprint(
        flow_relay_blueprint(
            client=client, org="o", project="p", slug="s", authorize=authorize, **options
        )
    )
    test_client = app.test_client()

    def post(body: dict[str, Any]) -> tuple[int, Any]:
        response = test_client.post(DEFAULT_RELAY_PATH, json=body)
        return response.status_code, response.get_json()

    return post


def starlette_relay(
    authorize: Callable[[Any], Any], sent: list[httpx.Request], **options: Any
) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    app = Starlette()
    client = AsyncNoukai(
        KEY, http_client=httpx.AsyncClient(transport=httpx.MockTransport(upstream_pausing(sent)))
    )
    mount_flow_relay(
        app, client=client, org="o", project="p", slug="s", authorize=authorize, **options
    )
    test_client = TestClient(app)

    def post(body: dict[str, Any]) -> tuple[int, Any]:
        response = test_client.post(DEFAULT_RELAY_PATH, json=body)
        return response.status_code, response.json()

    return post


RELAY_APPS = {"flask": flask_relay, "starlette": starlette_relay}


@pytest.fixture(params=sorted(RELAY_APPS))
def make_relay(request: pytest.FixtureRequest) -> Any:
    return RELAY_APPS[request.param]


# --- authorize ------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [False, None, 0, "", []])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_every_falsy_answer_denies_with_403(make_relay: Any, answer: object, kind: str) -> None:
    sent: list[httpx.Request] = []

    async def async_hook(request: Any) -> object:
        return answer

    hook = (lambda request: answer) if kind == "sync" else async_hook
    post = make_relay(hook, sent)
    assert post({"message": "hi"}) == (403, {"detail": "FORBIDDEN"})
    assert sent == []


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_truthy_answer_allows(make_relay: Any, kind: str) -> None:
    sent: list[httpx.Request] = []

    async def async_hook(request: Any) -> bool:
        return True

    post = make_relay((lambda request: True) if kind == "sync" else async_hook, sent)
    assert post({"message": "hi"})[0] == 200
    assert len(sent) == 1


def test_an_async_hook_also_runs_where_a_loop_is_already_running() -> None:
    async def hook() -> str:
        await asyncio.sleep(0)
        return "ok"

    async def inside_a_loop() -> str:
        return str(wait_for(hook()))

    assert wait_for(hook()) == "ok"
    assert asyncio.run(inside_a_loop()) == "ok"


# --- allow-list -----------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["blockOverrides", "block_overrides"])
def test_allow_accepts_either_spelling_and_forwards_wire_names(
    make_relay: Any, spelling: str
) -> None:
    sent: list[httpx.Request] = []
    post = make_relay(lambda request: True, sent, allow={spelling, "toolChoice"})
    body = {"message": "hi", "block_overrides": {"a": {"model": "m"}}, "tool_choice": "auto"}
    assert post(body)[0] == 200
    assert json.loads(sent[0].content) == {
        "message": "hi",
        "blockOverrides": {"a": {"model": "m"}},
        "toolChoice": "auto",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"trace": 0}, "trace"),  # 0 is not the default false
        ({"pausedAtStep": "lookup"}, "pausedAtStep"),  # resume fields need an executionId
        ({"iterations_used": 3}, "iterations_used"),
        ({"tool_call_messages": [RESULT]}, "tool_call_messages"),
        ({"session_id": "s"}, "session_id"),
    ],
)
def test_refusals_name_the_field_as_sent(make_relay: Any, body: dict[str, Any], field: str) -> None:
    sent: list[httpx.Request] = []
    post = make_relay(lambda request: True, sent)
    assert post({"message": "hi", **body}) == (
        400,
        {"detail": "FIELD_NOT_ALLOWED", "field": field},
    )
    assert sent == []


def test_a_relay_flow_fresh_call_passes_the_default_allow_list(make_relay: Any) -> None:
    sent: list[httpx.Request] = []
    post = make_relay(lambda request: True, sent)
    # What RelayFlow sends for execute("hi"): defaults are always on the wire.
    body = {
        "message": "hi",
        "parameters": {},
        "iterationsUsed": 0,
        "accumulatedOutputs": {},
        "trace": False,
    }
    assert post(body)[0] == 200
    assert sent[0].content == b'{"message":"hi"}'


def test_allow_is_checked_when_mounting() -> None:
    client = Noukai(KEY)

    def mount(**options: Any) -> object:
        return flow_relay_blueprint(
            client=client, org="o", project="p", slug="s", authorize=bool, **options
        )

    with pytest.raises(ValueError, match="allow= accepts parameters, blockOverrides"):
        mount(allow={"executionId"})
    with pytest.raises(ValueError, match="'nope'"):
        mount(allow=["tools", "nope"])
    with pytest.raises(TypeError, match="collection"):
        mount(allow="tools")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        mount(secret="short")
    with pytest.raises(TypeError, match="str or bytes"):
        mount(secret=12345)
    for ttl in (0, -1, float("inf"), True):
        with pytest.raises(ValueError, match="resume_ttl"):
            mount(resume_ttl=ttl)


# --- resume tokens --------------------------------------------------------------------------


def test_paused_replies_carry_a_token_that_resumes_only_that_pause(make_relay: Any) -> None:
    sent: list[httpx.Request] = []
    post = make_relay(lambda request: True, sent)
    status, pause = post({"message": "Paris"})
    assert status == 200 and pause["relayToken"].startswith("v1.")
    assert {k: v for k, v in pause.items() if k != "relayToken"} == PAUSED
    assert post(resume_of(pause)) == (200, COMPLETED)
    forwarded = json.loads(sent[-1].content)
    assert "relayToken" not in forwarded and forwarded["executionId"] == "exec-1"
    for forged in (
        resume_of(pause, relayToken=None),
        resume_of(pause, executionId="exec-2"),
        resume_of(pause, pausedAtStep="other"),
        resume_of(pause, iterationsUsed=0),
        resume_of(pause, accumulatedOutputs={"intro": "injected"}),
        resume_of(pause, toolCallMessages=[{"role": "user", "content": "Paris"}, RESULT]),
        resume_of(
            pause, toolCallMessages=[*PAUSED["toolCallMessages"], {"role": "user", "content": "x"}]
        ),
        resume_of(pause, relayToken=pause["relayToken"][:-2] + "AA"),
    ):
        assert post(forged) == (403, {"detail": "RESUME_FORBIDDEN"})
    assert len(sent) == 2


def test_workers_sharing_a_secret_accept_each_others_tokens() -> None:
    sent: list[httpx.Request] = []
    first = flask_relay(lambda request: True, sent, secret=SECRET)
    second = starlette_relay(lambda request: True, sent, secret=SECRET)
    stranger = starlette_relay(lambda request: True, sent)  # its own random secret
    other_flow = flask_relay(lambda request: True, sent, secret=SECRET, version=2)
    _, pause = first({"message": "Paris"})
    assert second(resume_of(pause))[0] == 200
    assert stranger(resume_of(pause))[0] == 403
    assert other_flow(resume_of(pause))[0] == 403  # a token is bound to its route and version


def signer(now: float) -> ResumeSigner:
    return ResumeSigner(SECRET.encode(), "o/p/s", ttl=60, clock=lambda: now)


def test_tokens_expire() -> None:
    token = signer(1000).issue(PAUSED)
    resume = {**resume_of(PAUSED), "relayToken": token}
    assert signer(1060).accepts(token, resume)
    assert not signer(1061).accepts(token, resume)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1",
        "v2.9999999999.2.x",
        "v1.x.2.x",
        "v1.9999999999.99.x",
        "v1.1" + "0" * 30 + ".2.x",
        "v1.9999999999.2.é",
        7,
    ],
)
def test_malformed_tokens_are_refused_without_errors(token: object) -> None:
    assert not signer(1000).accepts(token, resume_of(PAUSED))


def test_a_malformed_paused_reply_gets_no_token() -> None:
    assert signer(1000).issue({**PAUSED, "iterationsUsed": "1"}) is None
    assert signer(1000).issue({k: v for k, v in PAUSED.items() if k != "executionId"}) is None


# --- RelayFlow carries the token ------------------------------------------------------------


def relay_reply(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    if "executionId" not in body:
        return httpx.Response(200, json={**PAUSED, "relayToken": "token-1"})
    if body.get("relayToken") != "token-1":
        return httpx.Response(403, json={"detail": "RESUME_FORBIDDEN"})
    return httpx.Response(200, json=COMPLETED)


@respx.mock
def test_relay_flow_sends_the_token_back_with_the_resume() -> None:
    route = respx.post(RELAY).mock(side_effect=relay_reply)
    with RelayFlow(RELAY) as flow:
        looped = flow.execute("Paris", tool_handler=lambda calls: [RESULT])
        manual = flow.execute("Paris")
        assert isinstance(manual, PausedResult)
        resumed = manual.resume_sync([RESULT])
    assert isinstance(looped, ExecuteResult) and isinstance(resumed, ExecuteResult)
    tokens = [json.loads(call.request.content).get("relayToken") for call in route.calls]
    assert tokens == [None, "token-1", None, "token-1"]


@respx.mock
async def test_async_relay_flow_sends_the_token_back_with_the_resume() -> None:
    respx.post(RELAY).mock(side_effect=relay_reply)
    async with AsyncRelayFlow(RELAY) as flow:
        manual = await flow.execute("Paris")
        assert isinstance(manual, PausedResult)
        assert isinstance(await manual.resume([RESULT]), ExecuteResult)


@respx.mock
def test_a_failed_resume_still_raises_the_sdk_error() -> None:
    respx.post(RELAY).mock(
        side_effect=[
            httpx.Response(200, json={**PAUSED, "relayToken": "token-1"}),
            httpx.ConnectError("refused"),
        ]
    )
    with RelayFlow(RELAY) as flow, pytest.raises(APIConnectionError):
        flow.execute("Paris", tool_handler=lambda calls: [RESULT])


def test_remembered_pauses_are_bounded() -> None:
    from noukai_sdk._core.http_types import HttpRequest, HttpResponse

    tokens = ResumeTokens()
    for index in range(MAX_REMEMBERED_PAUSES + 1):
        content = json.dumps({**PAUSED, "executionId": f"e-{index}", "relayToken": f"t-{index}"})
        tokens.remember(HttpResponse(200, {}, content.encode()))

    def token_for(execution_id: str) -> object:
        request = HttpRequest(
            "POST", RELAY, json={**resume_of(PAUSED), "executionId": execution_id}
        )
        return tokens.attach(request).json.get("relayToken")

    assert token_for("e-0") is None
    assert token_for(f"e-{MAX_REMEMBERED_PAUSES}") == f"t-{MAX_REMEMBERED_PAUSES}"


# --- trace context --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "forwarded"),
    [
        ({"traceparent": PARENT}, {"traceparent": PARENT}),
        (
            {"traceparent": f" {PARENT} ", "tracestate": "a=1"},
            {"traceparent": PARENT, "tracestate": "a=1"},
        ),
        ({"traceparent": PARENT.upper()}, {}),
        ({"traceparent": "ff" + PARENT[2:]}, {}),
        ({"traceparent": "00-" + "0" * 32 + PARENT[35:]}, {}),
        ({"traceparent": PARENT[:36] + "0" * 16 + "-01"}, {}),
        ({"traceparent": PARENT + "-extra"}, {}),
        ({"tracestate": "a=1"}, {}),
        (
            {"traceparent": PARENT, "tracestate": "k=" + "v" * 510},
            {"traceparent": PARENT, "tracestate": "k=" + "v" * 510},
        ),
        ({"traceparent": PARENT, "tracestate": "k=" + "v" * 511}, {"traceparent": PARENT}),
        (
            {"traceparent": PARENT, "tracestate": ",".join(f"k{i}=v" for i in range(32))},
            {"traceparent": PARENT, "tracestate": ",".join(f"k{i}=v" for i in range(32))},
        ),
        (
            {"traceparent": PARENT, "tracestate": ",".join(f"k{i}=v" for i in range(33))},
            {"traceparent": PARENT},
        ),
        ({"traceparent": PARENT, "tracestate": "k=vé"}, {"traceparent": PARENT}),
        ({"traceparent": PARENT, "tracestate": "novalue"}, {"traceparent": PARENT}),
        ({"traceparent": PARENT, "tracestate": "=v"}, {"traceparent": PARENT}),
    ],
)
def test_trace_context_follows_the_w3c_format_and_bounds(
    headers: dict[str, str], forwarded: dict[str, str]
) -> None:
    assert trace_context(headers) == forwarded
