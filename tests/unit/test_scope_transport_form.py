"""The scope form the 0.2.0 and 0.5.x READMEs show, ``trace_scope(transport=client._transport)``,
still works: it means ``client=``, with a ``DeprecationWarning``."""

from __future__ import annotations

import asyncio
import warnings

import httpx
import pytest
import respx
from client_helpers import BASE, completed, make_client

from noukai_sdk import AsyncNoukai, Noukai, replay_scope_sync, trace_scope, trace_scope_sync


def test_the_sync_scope_accepts_a_clients_transport_with_a_deprecation_warning() -> None:
    client = make_client("sync")
    assert isinstance(client, Noukai)
    with respx.mock(base_url=BASE) as mock:
        route = mock.post("/seq/o/p/s/execute").mock(
            return_value=httpx.Response(200, json=completed())
        )
        with pytest.warns(DeprecationWarning, match="client="):
            scope_cm = trace_scope_sync(transport=client._transport)
        with scope_cm as scope:
            result = client.flow("o/p/s").execute("hi")
    assert result.session_id == scope.session_id
    assert route.calls.last.request.headers["x-session-id"] == scope.session_id


def test_the_async_scope_accepts_a_clients_transport() -> None:
    client = make_client("async")
    assert isinstance(client, AsyncNoukai)

    async def run() -> None:
        with pytest.warns(DeprecationWarning):
            scope_cm = trace_scope(transport=client._transport)
        async with scope_cm as scope:
            assert scope.session_id

    asyncio.run(run())


def test_replay_scope_takes_the_same_form() -> None:
    client = make_client("sync")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        replay_scope_sync(transport=client._transport)  # type: ignore[union-attr]
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)


def test_something_else_as_transport_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="pass client="):
        trace_scope_sync(transport=object())
