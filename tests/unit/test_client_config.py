"""Client construction: API key and environment resolution, dev port, timeouts and retries."""

from __future__ import annotations

import httpx
import pytest
import respx
from client_helpers import KEY, Kind, make_client, resolve

from noukai_sdk import AsyncNoukai, AuthenticationError, Noukai

CLIENTS = [Noukai, AsyncNoukai]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NOUKAI_API_KEY", "NOUKAI_ENV", "NOUKAI_DEV_PORT", "NOUKAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("cls", CLIENTS)
def test_missing_key_is_an_authentication_error(cls: type[Noukai]) -> None:
    with pytest.raises(AuthenticationError) as info:
        cls()
    assert str(info.value) == "No API key provided. Pass api_key= or set NOUKAI_API_KEY."
    assert info.value.status_code is None


@pytest.mark.parametrize("cls", CLIENTS)
def test_key_must_start_with_nk(cls: type[Noukai]) -> None:
    with pytest.raises(AuthenticationError, match=r"Invalid API key prefix\. Expected 'nk_'\."):
        cls("sk_live_x")


@pytest.mark.parametrize("cls", CLIENTS)
def test_key_from_environment_and_empty_argument_falls_through(
    cls: type[Noukai], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOUKAI_API_KEY", "nk_from_env")
    assert cls("").base_url == "https://api.noukai.dev/api/v1"


@pytest.mark.parametrize(
    ("env_arg", "env_var", "expected"),
    [
        (None, None, "https://api.noukai.dev/api/v1"),
        ("dev", None, "http://localhost:8080/api/v1"),
        ("development", None, "http://localhost:8080/api/v1"),
        (None, "dev", "http://localhost:8080/api/v1"),
        ("production", "dev", "https://api.noukai.dev/api/v1"),
        ("dev", "production", "http://localhost:8080/api/v1"),
        ("DEV", None, "https://api.noukai.dev/api/v1"),
        (None, "staging", "https://api.noukai.dev/api/v1"),
    ],
)
def test_environment_selection(
    env_arg: str | None, env_var: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if env_var is not None:
        monkeypatch.setenv("NOUKAI_ENV", env_var)
    assert Noukai(KEY, env=env_arg).base_url == expected


def test_base_url_environment_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOUKAI_BASE_URL", "https://evil.example")
    assert Noukai(KEY).base_url == "https://api.noukai.dev/api/v1"


def test_dev_port_keyword_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Noukai(KEY, env="dev", dev_port=9123).base_url == "http://localhost:9123/api/v1"
    monkeypatch.setenv("NOUKAI_DEV_PORT", "9555")
    assert Noukai(KEY, env="dev").base_url == "http://localhost:9555/api/v1"
    assert Noukai(KEY, env="dev", dev_port=9000).base_url == "http://localhost:9000/api/v1"


def test_dev_port_is_ignored_or_rejected_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOUKAI_DEV_PORT", "9555")
    assert Noukai(KEY).base_url == "https://api.noukai.dev/api/v1"
    with pytest.raises(ValueError, match="dev_port"):
        Noukai(KEY, dev_port=9000)


@pytest.mark.parametrize("port", [0, 70000, True])
def test_invalid_dev_port(port: int) -> None:
    with pytest.raises(ValueError, match="port"):
        Noukai(KEY, env="dev", dev_port=port)


def test_invalid_dev_port_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOUKAI_DEV_PORT", "http://other-host:80")
    with pytest.raises(ValueError, match="NOUKAI_DEV_PORT"):
        Noukai(KEY, env="dev")


def test_timeout_and_retries_defaults_and_validation() -> None:
    client = Noukai(KEY)
    assert client.timeout == 300.0
    assert client.max_retries == 1
    assert Noukai(KEY, max_retries=0).max_retries == 0
    assert Noukai(KEY, timeout=2.5).timeout == 2.5
    timeout = httpx.Timeout(3.0, connect=1.0)
    assert Noukai(KEY, timeout=timeout).timeout is timeout
    for bad in (0, -1.0):
        with pytest.raises(ValueError, match="timeout must be > 0"):
            Noukai(KEY, timeout=bad)
    with pytest.raises(ValueError, match="max_retries"):
        Noukai(KEY, max_retries=-1)


@pytest.mark.parametrize("cls", CLIENTS)
def test_org_and_project_must_come_together(cls: type[Noukai]) -> None:
    with pytest.raises(
        ValueError, match="`org` and `project` must be provided together, or both omitted"
    ):
        cls(KEY, org="acme")
    client = cls(KEY, org="acme", project="spelling")
    assert (client.default_org, client.default_project) == ("acme", "spelling")
    assert cls(KEY).default_org is None


def test_constructor_is_keyword_only_after_api_key() -> None:
    with pytest.raises(TypeError):
        Noukai(KEY, "dev")  # type: ignore[misc]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_repr_never_shows_the_key(kind: Kind) -> None:
    client = make_client(kind)
    assert KEY not in repr(client)
    assert KEY not in repr(client._config)


def test_injected_http_client_keeps_talking_to_the_noukai_base_url() -> None:
    injected = httpx.Client(base_url="https://proxy.example/other", headers={"X-Extra": "1"})
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post("https://api.noukai.dev/api/v1/seq/o/p/s/execute").respond(
            200, json={"status": "completed", "flowId": "f", "blockCount": 1}
        )
        with Noukai(KEY, http_client=injected) as client:
            client.flow("o/p/s").execute("hi")
        assert route.calls.last.request.headers["x-extra"] == "1"
    assert not injected.is_closed  # the caller owns it
    injected.close()


def test_http_client_of_the_wrong_kind_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"httpx\.Client"):
        Noukai(KEY, http_client=httpx.AsyncClient())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"httpx\.AsyncClient"):
        AsyncNoukai(KEY, http_client=httpx.Client())  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_close_is_idempotent_and_closed_clients_refuse_requests(kind: Kind) -> None:
    client = make_client(kind)
    if isinstance(client, Noukai):
        client.close()
        client.close()
    else:
        resolve(client.aclose())
        resolve(client.aclose())
    with pytest.raises(RuntimeError, match="closed"):
        resolve(client.flow("o/p/s").execute("hi"))


def test_context_managers() -> None:
    with Noukai(KEY) as client:
        assert isinstance(client, Noukai)

    async def use() -> None:
        async with AsyncNoukai(KEY) as client:
            assert isinstance(client, AsyncNoukai)

    resolve(use())
