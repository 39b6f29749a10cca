"""A proxy from the environment never sees a request (or the key) for the local dev server.

``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` point at a real listening socket that records every
connection. A plain ``httpx.Client()`` does go through it (so the trap works); a ``Noukai`` client
for ``env="dev"`` talks to the dev server directly, because the key would otherwise travel to the
proxy in cleartext.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import DevServerProcess

from noukai_sdk import AsyncNoukai, Noukai

PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


class RecordingProxy:
    """A TCP listener on loopback that keeps what each connection sends and answers 502."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            with connection:
                connection.settimeout(2)
                try:
                    self.received.append(connection.recv(65536))
                    connection.sendall(
                        b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    )
                except OSError:
                    self.received.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingProxy]:
    trap = RecordingProxy()
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, f"http://127.0.0.1:{trap.port}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield trap
    trap.close()


def test_the_trap_proxy_catches_a_plain_httpx_client(
    proxy: RecordingProxy, dev_server: DevServerProcess
) -> None:
    with httpx.Client(headers={"Authorization": f"Bearer {dev_server.api_key}"}) as plain:
        response = plain.get(f"http://localhost:{dev_server.port}/api/v1/health")

    assert response.status_code == 502
    assert len(proxy.received) == 1
    assert f"localhost:{dev_server.port}/api/v1/health".encode() in proxy.received[0]
    assert dev_server.api_key.encode() in proxy.received[0]  # what the SDK must never do


def test_a_dev_client_never_sends_its_key_through_an_environment_proxy(
    proxy: RecordingProxy, dev_server: DevServerProcess
) -> None:
    with Noukai(dev_server.api_key, env="dev", dev_port=dev_server.port) as client:
        flow = client.flow("demo/examples/hello-world")
        result = flow.execute("hello")
        events = list(flow.events("hello", run_remaining=True))

    assert result.status == "completed"
    assert events
    assert proxy.received == []


async def test_an_async_dev_client_never_uses_an_environment_proxy(
    proxy: RecordingProxy, dev_server: DevServerProcess
) -> None:
    async with AsyncNoukai(dev_server.api_key, env="dev", dev_port=dev_server.port) as client:
        result: Any = await client.flow("demo/examples/hello-world").execute("hello")

    assert result.status == "completed"
    assert proxy.received == []
