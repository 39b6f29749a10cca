"""The execute tool-call loop against the dev server: auto, manual, limits, result shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

import noukai_sdk

WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather"}}


def city(call: dict[str, Any]) -> str:
    return str(json.loads(call["function"]["arguments"])["city"])


def weather(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"role": "tool", "tool_call_id": c["id"], "content": f"sunny in {city(c)}"} for c in calls
    ]


async def async_weather(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return weather(calls)


def test_auto_loop_sync(client: Any) -> None:
    result = client.flow("demo/examples/tools-enabled").execute(
        "Paris then Oslo", tools=[WEATHER_TOOL], tool_handler=weather, session_id="tools-1"
    )
    assert result.output == "Weather report: sunny in Paris; sunny in Oslo"
    assert result.session_id == "tools-1"


async def test_auto_loop_async_with_async_handler(async_client: Any) -> None:
    result = await async_client.flow("demo/examples/tools-enabled").execute(
        "Paris then Oslo", tools=[WEATHER_TOOL], tool_handler=async_weather
    )
    assert result.output == "Weather report: sunny in Paris; sunny in Oslo"


def test_manual_resume_sync_with_all_result_shapes(client: Any) -> None:
    flow = client.flow("demo/examples/tools-enabled")
    outcome = flow.execute("Tokyo", tools=[WEATHER_TOOL])
    assert isinstance(outcome, noukai_sdk.PausedResult)
    [call] = outcome.tool_calls
    final = outcome.resume_sync([{"toolCallId": call["id"], "output": {"sky": "clear"}}])
    assert isinstance(final, noukai_sdk.ExecuteResult)
    assert final.output == 'Weather report: {"sky": "clear"}'


async def test_manual_resume_async(async_client: Any) -> None:
    outcome = await async_client.flow("demo/examples/tools-enabled").execute(
        "Rome", tools=[WEATHER_TOOL]
    )
    assert isinstance(outcome, noukai_sdk.PausedResult)
    [call] = outcome.tool_calls
    final = await outcome.resume([{"tool_call_id": call["id"], "output": "warm"}])
    assert final.output == "Weather report: warm"


def test_client_round_limit(client: Any) -> None:
    with pytest.raises(noukai_sdk.ToolCallLimitError) as info:
        client.flow("demo/examples/tools-enabled").execute(
            "Paris then Oslo", tools=[WEATHER_TOOL], tool_handler=weather, max_tool_rounds=1
        )
    assert info.value.code == "TOOL_CALL_LIMIT_CLIENT"
    assert info.value.execution_id


def test_server_round_limit_surfaces_as_flow_execution_error(client: Any) -> None:
    with pytest.raises(noukai_sdk.FlowExecutionError) as info:
        client.flow("test/flows/tool-limit").execute(
            "Paris then London then Tokyo then Rome", tools=[WEATHER_TOOL], tool_handler=weather
        )
    assert info.value.code == "TOOL_ITERATION_LIMIT"
