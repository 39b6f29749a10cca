"""The pool the SDK builds: sized for ``max_concurrency``, one TLS context per process, no
environment proxies for a loopback base URL.

These look at the pooled httpx client the SDK builds (``client._transport._client``), because
pool limits, TLS contexts and proxy mounts are not visible through the SDK's public API.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from client_helpers import KEY

from noukai_sdk import AsyncNoukai, Noukai


def pool_of(client: Noukai | AsyncNoukai) -> Any:
    return client._transport._client._transport._pool  # type: ignore[attr-defined]


@pytest.mark.parametrize("client_class", [Noukai, AsyncNoukai])
def test_the_pool_keeps_a_connection_alive_per_slot(client_class: Any) -> None:
    client = client_class(KEY, max_concurrency=150)

    pool = pool_of(client)

    assert pool._max_connections == 150
    assert pool._max_keepalive_connections == 150


def test_every_client_of_the_process_shares_one_tls_context() -> None:
    first, second, third = Noukai(KEY), Noukai(KEY), AsyncNoukai(KEY)

    contexts = {id(pool_of(client)._ssl_context) for client in (first, second, third)}

    assert len(contexts) == 1


def test_a_dev_client_ignores_proxy_variables_and_a_production_client_honours_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")

    dev = Noukai(KEY, env="dev")._transport._client
    production = Noukai(KEY)._transport._client

    assert dev.trust_env is False
    assert [m for m in dev._mounts.values() if m is not None] == []
    assert production.trust_env is True
    assert any(isinstance(m, httpx.HTTPTransport) for m in production._mounts.values())


def test_import_noukai_sdk_loads_no_httpx2(fresh_import: dict[str, Any]) -> None:
    assert {"httpx2", "httpcore2"} & set(fresh_import["import"]) == set()


def test_a_default_client_loads_no_httpx2(fresh_import: dict[str, Any]) -> None:
    assert "httpx2" not in fresh_import["default_client"]


def test_httpx2_is_no_runtime_dependency() -> None:
    from importlib.metadata import requires

    runtime = [req for req in requires("noukai-sdk") or [] if "extra ==" not in req]

    assert runtime and not any(req.replace("-", "_").startswith("httpx2") for req in runtime)
