"""The connection pool under the httpx client the SDK builds: httpcore's pool rules, in linear
time, and never one idle connection offered to two requests at once.

The pool runs over an in-memory network (an httpcore network backend whose connections answer
every request with a keep-alive ``200``), so connects, closes and the pool's bookkeeping passes
can be counted without a socket.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import httpcore
import pytest
from client_helpers import KEY, completed

from noukai_sdk import AsyncNoukai, Noukai
from noukai_sdk._transport import _linear_pool_class as _linear_pool_of

BODY = json.dumps(completed()).encode()
ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)


class _Connection:
    """One in-memory connection: an answer per request written; readable once 'the server
    closed it' (``hang_up``)."""

    def __init__(self) -> None:
        self.unanswered = 0
        self.closed = False
        self.hung_up = False

    def take_write(self, buffer: bytes) -> None:
        if buffer.split(b" ", 1)[0] in (b"GET", b"POST"):
            self.unanswered += 1

    def take_read(self) -> bytes:
        if self.hung_up or not self.unanswered:
            return b""
        self.unanswered -= 1
        return ANSWER

    def hang_up(self) -> None:
        self.hung_up = True

    def extra(self, info: str) -> Any:
        return self.hung_up if info == "is_readable" else None


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, connection: _Connection) -> None:
        self.connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await asyncio.sleep(0)  # other requests run meanwhile, as over a real socket
        return self.connection.take_read()

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.connection.take_write(buffer)

    async def aclose(self) -> None:
        self.connection.closed = True

    def get_extra_info(self, info: str) -> Any:
        return self.connection.extra(info)


class _SyncStream(httpcore.NetworkStream):
    def __init__(self, connection: _Connection) -> None:
        self.connection = connection

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.connection.take_read()

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.connection.take_write(buffer)

    def close(self) -> None:
        self.connection.closed = True

    def get_extra_info(self, info: str) -> Any:
        return self.connection.extra(info)


class _AsyncNetwork(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self.connections: list[_Connection] = []

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        self.connections.append(_Connection())
        return _AsyncStream(self.connections[-1])


class _SyncNetwork(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self.connections: list[_Connection] = []

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        self.connections.append(_Connection())
        return _SyncStream(self.connections[-1])


def _counting_passes(pool: Any) -> list[int]:
    """Count the pool's bookkeeping passes (one per request start and one per response close
    when no request has to go round again)."""
    passes = [0]
    assign = pool._assign_requests_to_connections

    def counted() -> Any:
        passes[0] += 1
        return assign()

    pool._assign_requests_to_connections = counted
    return passes


def _pool_of(client: Noukai | AsyncNoukai) -> Any:
    return client._transport._client._transport._pool  # type: ignore[attr-defined]


@pytest.mark.parametrize("client_class", [Noukai, AsyncNoukai])
def test_the_default_client_runs_on_the_linear_pool_and_an_injected_one_is_left_alone(
    client_class: Any,
) -> None:
    import httpx

    injected_class = httpx.Client if client_class is Noukai else httpx.AsyncClient
    injected = injected_class()

    built = _pool_of(client_class(KEY))
    given = _pool_of(client_class(KEY, http_client=injected))

    assert type(built).__name__.startswith("Linear")
    assert type(given) in (httpcore.ConnectionPool, httpcore.AsyncConnectionPool)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="httpx2 supports Python 3.11 and later")
@pytest.mark.parametrize("client_class", [Noukai, AsyncNoukai])
def test_a_client_the_sdk_builds_on_httpx2_runs_on_the_linear_pool_too(client_class: Any) -> None:
    import httpx2  # the test extra installs it on 3.11+: missing is a failure, not a skip

    pool = _pool_of(client_class(KEY, timeout=httpx2.Timeout(5.0)))

    assert type(pool).__module__ == "noukai_sdk._transport"
    assert type(pool).__mro__[1].__module__.startswith("httpcore2")


async def test_fifty_concurrent_executes_twice_keep_fifty_connections_and_take_two_passes_each() -> (
    None
):
    network = _AsyncNetwork()
    client = AsyncNoukai(KEY, env="dev", max_concurrency=64)
    pool = _pool_of(client)
    pool._network_backend = network
    pool._keepalive_expiry = None  # however long the test takes, no connection expires
    passes = _counting_passes(pool)
    flow = client.flow("acme/support/triage")

    for _ in range(2):
        results = await asyncio.gather(*(flow.execute("hi") for _ in range(50)))
        assert all(result.status == "completed" for result in results)

    assert len(network.connections) == 50
    assert not any(connection.closed for connection in network.connections)
    assert passes[0] == 2 * 100  # no request was offered a connection another one held
    await client.aclose()


async def test_idle_connections_beyond_the_keepalive_limit_are_closed() -> None:
    network = _AsyncNetwork()
    pool = _linear_pool_of(httpcore.AsyncConnectionPool)(
        max_connections=6, max_keepalive_connections=2, network_backend=network
    )

    responses = await asyncio.gather(*(pool.request("GET", "http://api.test/") for _ in range(6)))

    assert [response.status for response in responses] == [200] * 6
    assert len(network.connections) == 6
    assert sum(not connection.closed for connection in network.connections) == 2
    assert len(pool.connections) == 2


async def test_max_connections_bounds_the_pool_and_queued_requests_still_complete() -> None:
    network = _AsyncNetwork()
    pool = _linear_pool_of(httpcore.AsyncConnectionPool)(
        max_connections=2, max_keepalive_connections=2, network_backend=network
    )

    responses = await asyncio.gather(*(pool.request("GET", "http://api.test/") for _ in range(7)))

    assert [response.status for response in responses] == [200] * 7
    assert len(network.connections) == 2


def test_a_connection_the_server_closed_is_closed_and_not_reused() -> None:
    network = _SyncNetwork()
    pool = _linear_pool_of(httpcore.ConnectionPool)(max_connections=4, network_backend=network)
    pool.request("GET", "http://api.test/")

    network.connections[0].hang_up()
    response = pool.request("GET", "http://api.test/")

    assert response.status == 200
    assert len(network.connections) == 2
    assert network.connections[0].closed
    assert not network.connections[1].closed


def test_a_connection_past_its_keepalive_expiry_is_closed_and_not_reused() -> None:
    network = _SyncNetwork()
    pool = _linear_pool_of(httpcore.ConnectionPool)(
        max_connections=4, keepalive_expiry=-1.0, network_backend=network
    )

    for _ in range(3):
        assert pool.request("GET", "http://api.test/").status == 200

    assert len(network.connections) == 3
    assert network.connections[0].closed
    assert network.connections[1].closed


def test_a_kept_alive_connection_is_reused_by_the_next_request() -> None:
    network = _SyncNetwork()
    pool = _linear_pool_of(httpcore.ConnectionPool)(max_connections=4, network_backend=network)

    for _ in range(3):
        assert pool.request("GET", "http://api.test/").status == 200

    assert len(network.connections) == 1


async def test_a_request_to_another_origin_replaces_an_idle_connection_when_the_pool_is_full() -> (
    None
):
    network = _AsyncNetwork()
    pool = _linear_pool_of(httpcore.AsyncConnectionPool)(max_connections=1, network_backend=network)
    await pool.request("GET", "http://one.test/")

    response = await pool.request("GET", "http://two.test/")

    assert response.status == 200
    assert len(network.connections) == 2
    assert network.connections[0].closed
