"""execute() against the dev server with both clients: results, versions, sessions, errors."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import DevServerProcess

import noukai_sdk


def test_execute_sync(client: Any) -> None:
    result = client.flow("demo/examples/hello-world").execute("hi", session_id="sess-int-1")
    assert isinstance(result, noukai_sdk.ExecuteResult)
    assert (result.status, result.output) == ("completed", "Hello! You said: hi")
    assert result.execution_id and result.flow_id
    assert result.session_id == "sess-int-1"


async def test_execute_async(async_client: Any) -> None:
    result = await async_client.flow("demo/examples/hello-world").execute("hi")
    assert (result.status, result.output) == ("completed", "Hello! You said: hi")


def test_versions_route_to_the_right_flow_version(client: Any) -> None:
    flow = client.flow("test/flows/versioned")
    assert flow.execute("x", version="draft").output == "draft says x"
    assert flow.execute("x", version=2).output == "v2 says x"
    assert flow.execute("x").status == "completed"


async def test_structured_messages_async(async_client: Any) -> None:
    result = await async_client.flow("demo/examples/hello-world").execute(
        messages=[{"role": "user", "content": "from messages"}]
    )
    assert result.status == "completed"


def test_failing_flow_is_returned_as_failed(client: Any) -> None:
    result = client.flow("demo/examples/failing").execute("x")
    assert result.status == "failed"


def test_errors_are_mapped_with_both_clients(client: Any, dev_server: DevServerProcess) -> None:
    with pytest.raises(noukai_sdk.FlowNotFoundError) as missing:
        client.flow("demo/examples/no-such-flow").execute("x")
    assert missing.value.code == "FLOW_NOT_FOUND"
    assert missing.value.request_id
    assert "None" not in str(missing.value)


async def test_errors_are_mapped_async(async_client: Any) -> None:
    with pytest.raises(noukai_sdk.FlowNotFoundError):
        await async_client.flow("demo/examples/no-such-flow").execute("x")


def test_per_call_timeout_raises_api_timeout(client: Any) -> None:
    with pytest.raises(noukai_sdk.APITimeoutError):
        client.flow("demo/examples/slow").execute("x", parameters={"delay_ms": 2000}, timeout=0.3)
