"""The relay end to end: RelayFlow → relay route (real HTTP server) → dev server, tool loop included."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import DevServerProcess
from flask import Flask
from relay_apps import WEATHER_TOOL, city, serve_asgi, serve_wsgi
from starlette.applications import Starlette
from starlette.requests import Request

import noukai_sdk
from noukai_sdk import AsyncRelayFlow, ExecuteResult, FlowNotFoundError, PausedResult, RelayFlow
from noukai_sdk.adapters.relay import RelayBounds, flow_relay_blueprint, mount_flow_relay


def weather(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tool results in the 0.4.0 README shape (``toolCallId`` + ``output``)."""
    return [{"toolCallId": call["id"], "output": f"sunny in {city(call)}"} for call in calls]


async def async_weather(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return weather(calls)


@pytest.fixture(scope="module")
def starlette_relay(dev_server: DevServerProcess) -> Iterator[str]:
    """A Starlette app with two relays (tools flow, missing flow) served by uvicorn."""
    app = Starlette()
    client = noukai_sdk.AsyncNoukai(dev_server.api_key, env="dev", dev_port=dev_server.port)

    async def allow_with_token(request: Request) -> bool:
        from starlette.exceptions import HTTPException

        if request.headers.get("authorization") != "Bearer app-user":
            raise HTTPException(403, "not signed in")
        return True

    mount_flow_relay(
        app,
        client=client,
        org="demo",
        project="examples",
        slug="tools-enabled",
        authorize=allow_with_token,
        allow={"tools"},
    )
    mount_flow_relay(
        app,
        client=client,
        org="demo",
        project="examples",
        slug="no-such-flow",
        path="/missing",
        authorize=allow_with_token,
    )
    with serve_asgi(app) as base:
        yield base


@pytest.fixture(scope="module")
def flask_relay(dev_server: DevServerProcess) -> Iterator[str]:
    """A Flask app with a relay to the tools flow, served by werkzeug in a thread."""
    app = Flask(__name__)
    client = noukai_sdk.Noukai(dev_server.api_key, env="dev", dev_port=dev_server.port)
    app.register_blueprint(
        flow_relay_blueprint(
            client=client,
            org="demo",
            project="examples",
            slug="tools-enabled",
            authorize=lambda request: True,
            bounds=RelayBounds(max_messages=5),
            allow={"tools"},
        )
    )
    with client, serve_wsgi(app) as base:
        yield base


def signed_in() -> httpx.Client:
    return httpx.Client(headers={"Authorization": "Bearer app-user"}, timeout=30)


def test_relay_flow_runs_the_tool_loop_through_a_starlette_relay(starlette_relay: str) -> None:
    with signed_in() as http, RelayFlow(starlette_relay + "/agent/execute", client=http) as flow:
        result = flow.execute("Paris then Oslo", tools=[WEATHER_TOOL], tool_handler=weather)
    assert isinstance(result, ExecuteResult)
    assert result.output == "Weather report: sunny in Paris; sunny in Oslo"
    assert result.session_id is None


async def test_async_relay_flow_manual_resume(starlette_relay: str) -> None:
    async with (
        httpx.AsyncClient(headers={"Authorization": "Bearer app-user"}, timeout=30) as http,
        AsyncRelayFlow(starlette_relay + "/agent/execute", client=http) as flow,
    ):
        outcome = await flow.execute("Rome", tools=[WEATHER_TOOL])
        assert isinstance(outcome, PausedResult)
        final = await outcome.resume(await async_weather(outcome.tool_calls))
    assert isinstance(final, ExecuteResult)
    assert final.output == "Weather report: sunny in Rome"


def test_the_relays_authorize_hook_denies(starlette_relay: str) -> None:
    with (
        RelayFlow(starlette_relay + "/agent/execute") as flow,
        pytest.raises(noukai_sdk.PermissionDeniedError) as info,
    ):
        flow.execute("Paris")
    assert info.value.status_code == 403


def test_upstream_errors_reach_the_caller_with_the_request_id(starlette_relay: str) -> None:
    with (
        signed_in() as http,
        RelayFlow(starlette_relay + "/missing", client=http) as flow,
        pytest.raises(FlowNotFoundError) as info,
    ):
        flow.execute("hi")
    assert info.value.request_id


def test_relay_flow_through_a_flask_relay(flask_relay: str) -> None:
    with RelayFlow(flask_relay + "/agent/execute") as flow:
        result = flow.execute("Tokyo", tools=[WEATHER_TOOL], tool_handler=weather)
        assert result.output == "Weather report: sunny in Tokyo"
        with pytest.raises(noukai_sdk.FlowExecutionError) as info:
            flow.execute(messages=[{"role": "user", "content": "x"}] * 6)
    assert (info.value.status_code, info.value.message) == (413, "TOO_MANY_MESSAGES")


def test_async_relay_flow_is_usable_from_a_fresh_event_loop(flask_relay: str) -> None:
    async def main() -> str:
        async with AsyncRelayFlow(flask_relay + "/agent/execute") as flow:
            result = await flow.execute("Oslo", tools=[WEATHER_TOOL], tool_handler=async_weather)
            return str(result.output)

    assert asyncio.run(main()) == "Weather report: sunny in Oslo"
