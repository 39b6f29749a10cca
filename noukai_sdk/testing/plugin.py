"""The pytest plugin registered under the ``pytest11`` entry point ``noukai``.

Two things for tests of code that uses noukai-sdk:

* ``@pytest.mark.noukai_cassette("cassettes/checkout.json")`` runs the test inside a replay
  scope served from that cassette file (relative to the test file), with no network at all; the
  test fails if it leaves recorded executions unconsumed. The ``noukai_replay_scope`` fixture
  gives the scope (``None`` without the marker).
* ``noukai_dev_server`` (session-scoped) starts a local ``noukai dev-server`` on a free port, and
  ``noukai_client`` / ``noukai_async_client`` are clients bound to it.

Importing this module is cheap: the SDK, the dev server and any web framework are loaded only by
the fixtures that need them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from noukai_sdk._client import AsyncNoukai, Noukai
    from noukai_sdk._core.scope import Scope
    from noukai_sdk.devserver.process import DevServerProcess

MARKER = "noukai_cassette"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(path): replay Noukai calls of this test from a cassette file (a recorded "
        "session as JSON, relative to the test file); no network is used.",
    )


@pytest.fixture(autouse=True)
def noukai_replay_scope(request: pytest.FixtureRequest) -> Iterator[Scope | None]:
    """The replay scope of a ``@pytest.mark.noukai_cassette`` test, else ``None``."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        yield None
        return
    from noukai_sdk._replay import trace_scope_sync

    with trace_scope_sync(cassette=cassette_location(request, marker)) as scope:
        yield scope


def cassette_location(request: pytest.FixtureRequest, marker: pytest.Mark) -> Path:
    """The marker's cassette path, resolved against the directory of the test file."""
    if len(marker.args) != 1 or not isinstance(marker.args[0], (str, Path)):
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes one path: {MARKER}('session.json')")
    path = Path(marker.args[0])
    return path if path.is_absolute() else Path(request.path).parent / path


@pytest.fixture(scope="session")
def noukai_dev_server() -> Iterator[DevServerProcess]:
    """A ``noukai dev-server`` process on a free loopback port (``.port``, ``.api_key``)."""
    from noukai_sdk.devserver.process import DevServerProcess

    with DevServerProcess(latency_ms=0) as server:
        yield server


@pytest.fixture
def noukai_client(noukai_dev_server: DevServerProcess) -> Iterator[Noukai]:
    """A ``Noukai`` client bound to :func:`noukai_dev_server`."""
    from noukai_sdk._client import Noukai

    with Noukai(noukai_dev_server.api_key, env="dev", dev_port=noukai_dev_server.port) as client:
        yield client


@pytest.fixture
async def noukai_async_client(noukai_dev_server: DevServerProcess) -> AsyncIterator[AsyncNoukai]:
    """An ``AsyncNoukai`` client bound to :func:`noukai_dev_server`."""
    from noukai_sdk._client import AsyncNoukai

    async with AsyncNoukai(
        noukai_dev_server.api_key, env="dev", dev_port=noukai_dev_server.port
    ) as client:
        yield client
