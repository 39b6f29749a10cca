"""Client configuration: the API key, the environment and its base URL, the dev port, timeout and
retries, org/project defaults, the log handler, an injected HTTP client, and closing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from client_helpers import KEY, Kind, make_client, resolve

from noukai_sdk import AsyncNoukai, AuthenticationError, Noukai

CLIENTS = [Noukai, AsyncNoukai]
PROD = "https://api.noukai.dev/api/v1"
DEV = "http://localhost:8080/api/v1"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NOUKAI_API_KEY", "NOUKAI_ENV", "NOUKAI_DEV_PORT", "NOUKAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


# The API key


@pytest.mark.parametrize("cls", CLIENTS)
def test_a_missing_key_is_an_authentication_error(cls: type[Noukai]) -> None:
    for arguments in [(), ("",)]:
        with pytest.raises(AuthenticationError) as info:
            cls(*arguments)
        assert str(info.value) == "No API key provided. Pass api_key= or set NOUKAI_API_KEY."
        assert info.value.status_code is None


@pytest.mark.parametrize("bad", ["sk_live_x", "NK_123", " nk_123", "nk"])
@pytest.mark.parametrize("cls", CLIENTS)
def test_a_key_without_the_nk_prefix_is_refused(cls: type[Noukai], bad: str) -> None:
    with pytest.raises(AuthenticationError) as info:
        cls(bad)
    assert str(info.value) == "Invalid API key prefix. Expected 'nk_'."
    assert info.value.status_code is None
    assert bad not in repr(info.value) or bad == "nk"  # "nk" is part of the message itself


@pytest.mark.parametrize("bad", ["nk_secret_value\n", "nk_sécret", "nk_tab\there", "nk_nul\x00"])
@pytest.mark.parametrize("cls", CLIENTS)
def test_a_key_that_cannot_be_a_header_is_refused_at_construction_without_echoing_it(
    cls: type[Noukai], bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AuthenticationError) as info:
        cls(bad)
    assert info.value.status_code is None
    assert "secret" not in repr(info.value) and "sécret" not in repr(info.value)
    if "\x00" not in bad:  # environment variables cannot hold NUL
        monkeypatch.setenv("NOUKAI_API_KEY", bad)
        with pytest.raises(AuthenticationError):
            cls()


@pytest.mark.parametrize("cls", CLIENTS)
def test_the_key_comes_from_the_environment_when_the_argument_is_empty(
    cls: type[Noukai], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOUKAI_API_KEY", "nk_from_env")
    assert cls("").base_url == PROD


# The environment and its base URL


@pytest.mark.parametrize(
    ("env_arg", "env_var", "expected"),
    [
        (None, None, PROD),
        ("dev", None, DEV),
        ("development", None, DEV),
        (None, "dev", DEV),
        ("production", "dev", PROD),
        ("dev", "production", DEV),
        ("production", None, PROD),
        ("DEV", None, PROD),
        ("staging", None, PROD),
        (None, "staging", PROD),
    ],
)
def test_the_environment_selects_the_base_url(
    env_arg: str | None, env_var: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if env_var is not None:
        monkeypatch.setenv("NOUKAI_ENV", env_var)
    assert Noukai(KEY, env=env_arg).base_url == expected


def test_the_base_url_environment_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOUKAI_BASE_URL", "https://evil.example/api")
    assert Noukai(KEY).base_url == PROD


# The dev port


def test_the_dev_port_comes_from_the_argument_or_else_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Noukai(KEY, env="dev", dev_port=9123).base_url == "http://localhost:9123/api/v1"
    monkeypatch.setenv("NOUKAI_DEV_PORT", "9555")
    assert Noukai(KEY, env="dev").base_url == "http://localhost:9555/api/v1"
    assert Noukai(KEY, env="dev", dev_port=9000).base_url == "http://localhost:9000/api/v1"


def test_a_dev_port_never_redirects_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOUKAI_DEV_PORT", "9555")
    assert Noukai(KEY).base_url == PROD  # a stray port variable is ignored
    with pytest.raises(ValueError, match="dev_port"):
        Noukai(KEY, dev_port=9000)  # a port argument with production is a mistake


@pytest.mark.parametrize("port", [0, 70000, True])
def test_an_invalid_dev_port_is_refused(port: int) -> None:
    with pytest.raises(ValueError, match="port"):
        Noukai(KEY, env="dev", dev_port=port)


@pytest.mark.parametrize("value", ["eighty", "http://other-host:80"])
def test_an_invalid_dev_port_variable_is_refused(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOUKAI_DEV_PORT", value)
    with pytest.raises(ValueError, match="NOUKAI_DEV_PORT"):
        Noukai(KEY, env="dev")


# Timeout and retries

CUSTOM_TIMEOUT = httpx.Timeout(5.0, connect=1.0)


@pytest.mark.parametrize(
    ("given", "expected"),
    [({}, 300.0), ({"timeout": 2}, 2.0), ({"timeout": 2.5}, 2.5)],
)
def test_the_timeout_defaults_to_300_seconds_and_is_a_float(
    given: dict[str, Any], expected: float
) -> None:
    timeout = Noukai(KEY, **given).timeout
    assert timeout == expected and type(timeout) is float


def test_an_httpx_timeout_is_kept_as_given() -> None:
    assert Noukai(KEY, timeout=CUSTOM_TIMEOUT).timeout is CUSTOM_TIMEOUT


@pytest.mark.parametrize("bad", [0, -1, 0.0, -0.5])
@pytest.mark.parametrize("cls", CLIENTS)
def test_the_timeout_must_be_positive(cls: type[Noukai], bad: float) -> None:
    with pytest.raises(ValueError, match="timeout must be > 0"):
        cls(KEY, timeout=bad)


@pytest.mark.parametrize(
    ("given", "expected"), [({}, 1), ({"max_retries": 0}, 0), ({"max_retries": 3}, 3)]
)
def test_max_retries_defaults_to_one_and_zero_disables_retries(
    given: dict[str, Any], expected: int
) -> None:
    assert Noukai(KEY, **given).max_retries == expected


@pytest.mark.parametrize("bad", [-1, True, 1.5])
def test_max_retries_must_be_a_non_negative_integer(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        Noukai(KEY, max_retries=bad)


# Other constructor arguments


@pytest.mark.parametrize("cls", CLIENTS)
def test_org_and_project_must_come_together(cls: type[Noukai]) -> None:
    for half in [{"org": "acme"}, {"project": "spelling"}]:
        with pytest.raises(
            ValueError, match="`org` and `project` must be provided together, or both omitted"
        ):
            cls(KEY, **half)
    client = cls(KEY, org="acme", project="spelling")
    assert (client.default_org, client.default_project) == ("acme", "spelling")
    empty = cls(KEY, org="", project="")
    assert (empty.default_org, empty.default_project) == ("", "")
    plain = cls(KEY)
    assert (plain.default_org, plain.default_project) == (None, None)


def test_the_constructor_is_keyword_only_after_the_api_key() -> None:
    with pytest.raises(TypeError):
        Noukai(KEY, "dev")  # type: ignore[misc]


@pytest.mark.parametrize("cls", CLIENTS)
def test_a_log_handler_that_is_not_callable_is_refused_at_construction(
    cls: type[Noukai],
) -> None:
    with pytest.raises(TypeError, match="log_handler"):
        cls(KEY, log_handler="print")  # type: ignore[arg-type]


def test_construction_performs_no_network_io() -> None:
    with respx.mock(assert_all_called=False) as mock:
        Noukai(KEY).flow("o/p/s")
        AsyncNoukai(KEY).flow("o/p/s")
        assert not mock.calls


# An injected HTTP client


def test_an_injected_http_client_keeps_talking_to_the_noukai_base_url() -> None:
    injected = httpx.Client(base_url="https://proxy.example/other", headers={"X-Extra": "1"})
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{PROD}/seq/o/p/s/execute").respond(
            200, json={"status": "completed", "flowId": "f", "blockCount": 1}
        )
        with Noukai(KEY, http_client=injected) as client:
            client.flow("o/p/s").execute("hi")
        assert route.calls.last.request.headers["x-extra"] == "1"
    assert not injected.is_closed  # the caller owns it
    injected.close()


def test_an_http_client_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(TypeError, match=r"httpx\.Client"):
        Noukai(KEY, http_client=httpx.AsyncClient())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"httpx\.AsyncClient"):
        AsyncNoukai(KEY, http_client=httpx.Client())  # type: ignore[arg-type]


# Closing


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_close_is_idempotent_and_a_closed_client_refuses_requests(kind: Kind) -> None:
    client = make_client(kind)
    if isinstance(client, Noukai):
        client.close()
        client.close()
    else:
        resolve(client.aclose())
        resolve(client.aclose())
    with pytest.raises(RuntimeError, match="closed"):
        resolve(client.flow("o/p/s").execute("hi"))


def test_both_clients_are_context_managers() -> None:
    with Noukai(KEY) as client:
        assert isinstance(client, Noukai)

    async def use() -> None:
        async with AsyncNoukai(KEY) as client:
            assert isinstance(client, AsyncNoukai)

    resolve(use())
