"""The keyword options named once in ``_core/options.py``: refused when unknown, all understood."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from noukai_sdk import AsyncNoukai, Noukai, RelayFlow, trace_scope_sync
from noukai_sdk._core.execute import ExecuteCall
from noukai_sdk._core.options import (
    ClientOptions,
    EventOptions,
    ExecuteOptions,
    JobOptions,
    RelayExecuteOptions,
    StepOptions,
    StreamOptions,
)
from noukai_sdk._core.step_protocol import StepCall


def _keys(options: Any) -> set[str]:
    return set(options.__required_keys__ | options.__optional_keys__)


def _parameters(function: Any) -> set[str]:
    return set(inspect.signature(function).parameters)


@pytest.mark.parametrize(
    ("options", "builder"),
    [
        (ExecuteOptions, ExecuteCall.from_args),
        (JobOptions, ExecuteCall.from_args),
        (RelayExecuteOptions, ExecuteCall.from_args),
        (StepOptions, StepCall.from_args),
        (EventOptions, StepCall.from_args),
    ],
)
def test_every_option_is_a_parameter_of_its_call_object(options: Any, builder: Any) -> None:
    assert _keys(options) <= _parameters(builder)


def test_stream_options_are_the_step_options_plus_the_step() -> None:
    assert _keys(StreamOptions) - _keys(StepOptions) == {"step"}


def test_client_options_are_what_the_client_resolves() -> None:
    assert "http_client" not in _keys(ClientOptions)
    with Noukai("nk_test", timeout=5.0, max_retries=0, log_payloads=True) as client:
        assert client.timeout == 5.0
        assert client.max_retries == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda flow: flow.steps("hi", run_remaining=True), "Flow.steps()"),
        (lambda flow: flow.events("hi", step="a"), "Flow.events()"),
        (lambda flow: flow.stream_text("hi", messages=[]), "Flow.stream_text()"),
        (lambda flow: flow.execute("hi", input_overrides={}), "Flow.execute()"),
        (lambda flow: flow.execute_async("hi", tools=[]), "Flow.execute_async()"),
    ],
)
def test_a_flow_refuses_a_keyword_its_method_does_not_take(call: Any, message: str) -> None:
    with Noukai("nk_test") as client, pytest.raises(TypeError, match="unexpected keyword") as info:
        call(client.flow("org/project/slug"))
    assert str(info.value).startswith(message)


async def test_the_async_flow_refuses_it_before_any_request() -> None:
    async with AsyncNoukai("nk_test") as client:
        flow = client.flow("org/project/slug")
        with pytest.raises(TypeError, match=r"AsyncFlow.execute\(\) got an unexpected .*'usage_'"):
            await flow.execute("hi", usage_=True)  # type: ignore[call-overload]


def test_constructors_and_scopes_refuse_unknown_keywords() -> None:
    with pytest.raises(
        TypeError, match=r"^Noukai\(\) got an unexpected keyword argument 'retries'"
    ):
        Noukai("nk_test", retries=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"^RelayFlow\(\) got an unexpected keyword argument 'key'"):
        RelayFlow("https://relay.example/execute", key="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"^trace_scope_sync\(\) got an unexpected keyword"):
        trace_scope_sync(replay=True)  # type: ignore[call-arg]


def test_a_relay_flow_refuses_the_options_only_flows_take() -> None:
    relay = RelayFlow("https://relay.example/execute")
    with relay, pytest.raises(TypeError, match=r"^RelayFlow.execute\(\) got .* 'version'"):
        relay.execute("hi", version=2)  # type: ignore[call-overload]
