"""The dev server through the public SDK clients, as the README uses them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import TEST_KEYS, DevServerProcess

import noukai_sdk

WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather"}}


def weather(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "role": "tool",
            "tool_call_id": call["id"],
            "content": f"sunny in {json.loads(call['function']['arguments'])['city']}",
        }
        for call in calls
    ]


def test_execute(client: Any) -> None:
    result = client.flow("demo/examples/hello-world").execute("hi")
    assert result.status == "completed"
    assert result.output == "Hello! You said: hi"


def test_events_with_run_remaining(client: Any) -> None:
    events = list(client.flow("demo/examples/two-step").events("go", run_remaining=True))
    assert isinstance(events[0], noukai_sdk.RunStarted)
    assert isinstance(events[-1], noukai_sdk.FlowCompleted)
    assert not any(isinstance(e, noukai_sdk.StepPaused) for e in events)
    completed = [e for e in events if isinstance(e, noukai_sdk.StepCompleted)]
    assert [c.step_id for c in completed] == ["draft", "polish"]
    assert all(c.tokens is not None and c.tokens.total > 0 for c in completed)


def test_steps_pause_between_steps(client: Any) -> None:
    steps = list(client.flow("demo/examples/two-step").steps("go"))
    assert [(s.step_id, s.step_index) for s in steps] == [("draft", 0), ("polish", 1)]


def test_tool_handler_round_trip_on_both_protocols(client: Any) -> None:
    flow = client.flow("demo/examples/tools-enabled")
    result = flow.execute("Paris then Oslo", tools=[WEATHER_TOOL], tool_handler=weather)
    assert result.output == "Weather report: sunny in Paris; sunny in Oslo"
    [step] = list(flow.steps("Tokyo", tools=[WEATHER_TOOL], tool_handler=weather))
    assert step.output == "Weather report: sunny in Tokyo"


def test_job_and_trace(client: Any) -> None:
    flow = client.flow("demo/examples/hello-world")
    job = flow.execute_async("queued")
    status = job.wait(timeout=15, poll_interval=0.05)
    assert (status.status, status.result) == ("completed", "Hello! You said: queued")
    trace = flow.run(job.execution_id).trace()
    assert trace.flow_run.status == "completed"
    assert [s.step_id for s in trace.steps] == ["answer"]
    live = list(flow.run(job.execution_id).live_trace())
    assert isinstance(live[0], noukai_sdk.RunStarted) and isinstance(
        live[-1], noukai_sdk.FlowCompleted
    )


def test_error_statuses_map_to_sdk_errors(client: Any, dev_server: DevServerProcess) -> None:
    with pytest.raises(noukai_sdk.FlowNotFoundError) as missing:
        client.flow("demo/examples/missing").execute("x")
    assert missing.value.code == "FLOW_NOT_FOUND" and missing.value.request_id
    with (
        noukai_sdk.Noukai("nk_not_a_key", env="dev", dev_port=dev_server.port) as stranger,
        pytest.raises(noukai_sdk.AuthenticationError) as unauthorised,
    ):
        stranger.flow("demo/examples/hello-world").execute("x")
    assert unauthorised.value.www_authenticate
    with (
        noukai_sdk.Noukai(TEST_KEYS["broke"], env="dev", dev_port=dev_server.port) as broke,
        pytest.raises(noukai_sdk.InsufficientCreditsError),
    ):
        broke.flow("demo/examples/hello-world").execute("x")
    with (
        noukai_sdk.Noukai(TEST_KEYS["demo_only"], env="dev", dev_port=dev_server.port) as limited,
        pytest.raises(noukai_sdk.PermissionDeniedError),
    ):
        limited.flow("test/flows/versioned").execute("x")


async def test_async_client(async_client: Any) -> None:
    result = await async_client.flow("demo/examples/two-step").execute("async")
    assert result.output == "Polished (1 words): Draft: async"
    kinds = [
        type(e).__name__
        async for e in async_client.flow("demo/examples/streaming").events(
            "a b c", run_remaining=True
        )
    ]
    assert kinds.count("StepOutput") == 3
    assert kinds[-1] == "FlowCompleted"


def test_a_captured_session_replays_from_the_dev_server(
    client: Any, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = client.flow("demo/examples/two-step")
    with noukai_sdk.trace_scope_sync(client=client) as scope:
        live = flow.execute("record me")
        live_steps = list(flow.steps("and me"))
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", "1")
    with noukai_sdk.replay_scope_sync(client=client, replay_session_id=scope.session_id):
        replayed = flow.execute("record me")
        replayed_steps = list(flow.steps("and me"))
    assert replayed.output == live.output == "Polished (2 words): Draft: record me"
    assert [s.output for s in replayed_steps] == [s.output for s in live_steps]
    executions = http.get(f"seq/sessions/{scope.session_id}").json()["executions"]
    assert [e["triggerType"] for e in executions] == ["execute", "step"]
