"""A stream whose first connect is refused is opened again, as a blocking request would be: the
dev server is down when ``steps()``/``events()``/``live_trace()`` first connect, comes up during
the retry's backoff, and the stream then runs to its end over real TCP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from noukai_sdk import APIConnectionError, AsyncNoukai, Noukai
from noukai_sdk.devserver.process import DevServerProcess

KEY = "nk_dev_local"
FLOW = "demo/examples/two-step"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def down_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevServerProcess, str]]:
    """A stopped dev server on a fixed port, whose database already holds one finished run."""
    db = Path(tmp_path_factory.mktemp("stream-open")) / "dev.sqlite3"
    server = DevServerProcess(port=free_port(), db=db, latency_ms=0)
    with server, Noukai(KEY, env="dev", dev_port=server.port) as client:
        execution_id = client.flow(FLOW).execute("hello").execution_id
    assert execution_id is not None
    yield server, execution_id
    server.stop()


def open_stream(client: Any, opener: str, execution_id: str) -> Any:
    flow = client.flow(FLOW)
    if opener == "live_trace":
        return flow.run(execution_id).live_trace()
    if opener == "steps":
        return flow.steps("hello")
    return flow.events("hello", run_remaining=True)


def read_while_the_server_comes_up(
    kind: str, opener: str, server: DevServerProcess, execution_id: str
) -> tuple[list[str], list[dict[str, Any]]]:
    log: list[dict[str, Any]] = []

    def on_event(event: dict[str, Any]) -> None:
        log.append(event)
        if event["phase"] == "retry" and not server.running:
            server.start()  # comes up before the backoff has ended and the retry connects

    options: dict[str, Any] = {"env": "dev", "dev_port": server.port, "log_handler": on_event}
    if kind == "sync":
        with Noukai(KEY, **options) as client, open_stream(client, opener, execution_id) as s:
            return [event.type for event in s], log

    async def read() -> list[str]:
        client = AsyncNoukai(KEY, **options)
        async with client, open_stream(client, opener, execution_id) as s:
            return [event.type async for event in s]

    return asyncio.run(read()), log


@pytest.mark.parametrize("opener", ["steps", "events", "live_trace"])
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_refused_first_connect_is_retried_and_the_stream_completes(
    down_server: tuple[DevServerProcess, str], kind: str, opener: str
) -> None:
    server, execution_id = down_server
    server.stop()
    try:
        types, log = read_while_the_server_comes_up(kind, opener, server, execution_id)
    finally:
        server.stop()
    retries = [event for event in log if event["phase"] == "retry"]
    assert len(retries) == 1 and retries[0]["reason"] == "APIConnectionError"
    assert types[-1] == ("step_completed" if opener == "steps" else "flow_completed")


def test_with_retries_disabled_a_refused_connect_raises_at_once(
    down_server: tuple[DevServerProcess, str],
) -> None:
    server, _ = down_server
    server.stop()
    with (
        Noukai(KEY, env="dev", dev_port=server.port, max_retries=0) as client,
        pytest.raises(APIConnectionError),
    ):
        list(client.flow(FLOW).events("hello"))
