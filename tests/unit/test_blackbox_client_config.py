"""Black-box checks of client configuration, flow addressing and the public surface.

Written from the documented configuration behaviour; only the public API is used.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

import noukai_sdk
from noukai_sdk import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncNoukai,
    AuthenticationError,
    FlowExecutionError,
    FlowNotFoundError,
    InsufficientCreditsError,
    Noukai,
    NoukaiError,
    PermissionDeniedError,
    RateLimitError,
    ReplayError,
    ToolCallLimitError,
)

KEY = "nk_blackbox_secret_value"
PROD = "https://api.noukai.dev/api/v1"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NOUKAI_API_KEY", "NOUKAI_ENV", "NOUKAI_DEV_PORT", "NOUKAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("client_class", [Noukai, AsyncNoukai])
def test_missing_key_is_an_authentication_error_with_the_documented_message(
    client_class: type[Noukai] | type[AsyncNoukai],
) -> None:
    with pytest.raises(AuthenticationError) as info:
        client_class()
    assert str(info.value) == "No API key provided. Pass api_key= or set NOUKAI_API_KEY."
    assert info.value.status_code is None
    with pytest.raises(AuthenticationError):
        client_class("")


@pytest.mark.parametrize("bad", ["sk_123", "NK_123", " nk_123", "nk"])
def test_a_key_without_the_nk_prefix_is_refused(bad: str) -> None:
    with pytest.raises(AuthenticationError) as info:
        Noukai(bad)
    assert str(info.value) == "Invalid API key prefix. Expected 'nk_'."
    assert info.value.status_code is None
    assert bad not in repr(info.value) or bad == "nk"


def test_an_empty_key_argument_falls_through_to_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NOUKAI_API_KEY", KEY)
    client = Noukai("")
    assert client.base_url == PROD
    client.close()


def test_environment_resolution_and_base_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Noukai(KEY).base_url == PROD
    assert Noukai(KEY, env="dev").base_url == "http://localhost:8080/api/v1"
    assert Noukai(KEY, env="development").base_url == "http://localhost:8080/api/v1"
    for other in ("DEV", "staging", "production"):
        assert Noukai(KEY, env=other).base_url == PROD
    monkeypatch.setenv("NOUKAI_ENV", "dev")
    assert Noukai(KEY).base_url == "http://localhost:8080/api/v1"
    assert Noukai(KEY, env="production").base_url == PROD
    monkeypatch.setenv("NOUKAI_ENV", "production")
    assert Noukai(KEY, env="dev").base_url == "http://localhost:8080/api/v1"


def test_noukai_base_url_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOUKAI_BASE_URL", "https://evil.example/api")
    assert Noukai(KEY).base_url == PROD


def test_org_and_project_must_come_together() -> None:
    halves: list[dict[str, Any]] = [{"org": "a"}, {"project": "b"}]
    for kwargs in halves:
        with pytest.raises(
            ValueError, match="`org` and `project` must be provided together, or both omitted"
        ):
            Noukai(KEY, **kwargs)
    client = Noukai(KEY, org="", project="")
    assert (client.default_org, client.default_project) == ("", "")
    plain = Noukai(KEY)
    assert (plain.default_org, plain.default_project) == (None, None)


@pytest.mark.parametrize("bad", [0, -1, 0.0, -0.5])
def test_timeout_must_be_positive(bad: float) -> None:
    with pytest.raises(ValueError):
        Noukai(KEY, timeout=bad)
    with pytest.raises(ValueError):
        AsyncNoukai(KEY, timeout=bad)


def test_timeout_accepts_numbers_and_httpx_timeouts() -> None:
    assert Noukai(KEY).timeout == 300.0
    assert Noukai(KEY, timeout=2).timeout == 2.0
    custom = httpx.Timeout(5.0, connect=1.0)
    assert Noukai(KEY, timeout=custom).timeout is custom


def test_max_retries_zero_disables_retries_and_negative_is_refused() -> None:
    assert Noukai(KEY).max_retries == 1
    assert Noukai(KEY, max_retries=0).max_retries == 0
    assert Noukai(KEY, max_retries=3).max_retries == 3
    for bad in (-1, True, 1.5):
        with pytest.raises(ValueError):
            Noukai(KEY, max_retries=bad)  # type: ignore[arg-type]


def test_construction_performs_no_network_io() -> None:
    with respx.mock(assert_all_called=False) as mock:
        Noukai(KEY).flow("o/p/s")
        AsyncNoukai(KEY).flow("o/p/s")
        assert not mock.calls


def test_the_key_never_appears_in_reprs() -> None:
    client = Noukai(KEY, org="o", project="p")
    flow = client.flow("s")
    for text in (repr(client), str(client), repr(flow), repr(AsyncNoukai(KEY))):
        assert KEY not in text


@pytest.mark.parametrize(
    ("slug", "kwargs", "message"),
    [
        ("o/p/s", {"org": "x"}, "Pass either a slug string OR org/project/slug kwargs, not both."),
        ("", {}, "Slug string is empty."),
        ("s", {}, "requires the client to be constructed with org and project defaults"),
        (
            "a/b",
            {},
            "Slug string must be either a single slug name (with client org/project defaults) or 'org/project/slug'; got: ",
        ),
        ("a/b/c/d", {}, "Slug string must be either a single slug name"),
        ("a//c", {}, "Slug string must be either a single slug name"),
        ("/b/c", {}, "Slug string must be either a single slug name"),
        (None, {"org": "o"}, "Kwargs form requires all of org=, project=, slug=."),
        ("s", {"org": "o"}, "Kwargs form requires all of org=, project=, slug=."),
        (None, {}, "Must provide either a slug string or org/project/slug kwargs."),
    ],
)
def test_flow_addressing_errors(slug: str | None, kwargs: dict[str, str], message: str) -> None:
    client = Noukai(KEY)
    with pytest.raises(ValueError) as info:
        client.flow(slug, **kwargs)
    assert message in str(info.value)


def test_flow_addressing_forms() -> None:
    client = Noukai(KEY, org="do", project="dp")
    assert (client.flow("s").org, client.flow("s").project, client.flow("s").slug) == (
        "do",
        "dp",
        "s",
    )
    full = client.flow("o/p/s")
    assert (full.org, full.project, full.slug) == ("o", "p", "s")
    kw = Noukai(KEY).flow(slug="s", org="o", project="p")
    assert (kw.org, kw.project, kw.slug) == ("o", "p", "s")


def test_a_single_slug_needs_truthy_defaults() -> None:
    with pytest.raises(
        ValueError, match="requires the client to be constructed with org and project defaults"
    ):
        Noukai(KEY, org="", project="").flow("s")


# Every documented public name, including APIResponseValidationError.
DOCUMENTED_NAMES = {
    "__version__",
    "Noukai",
    "AsyncNoukai",
    "Flow",
    "AsyncFlow",
    "Run",
    "AsyncRun",
    "Job",
    "AsyncJob",
    "ExecuteResult",
    "PausedResult",
    "JobAccepted",
    "JobStatus",
    "StreamEvent",
    "RunStarted",
    "StepStarted",
    "StepInput",
    "StepOutput",
    "StepCompleted",
    "StepFailed",
    "StepPaused",
    "ToolCallsRequired",
    "FlowCompleted",
    "Trace",
    "RunSummary",
    "StepTrace",
    "StepAttempts",
    "TokenBreakdown",
    "NoukaiError",
    "APIConnectionError",
    "APITimeoutError",
    "AuthenticationError",
    "PermissionDeniedError",
    "FlowNotFoundError",
    "InsufficientCreditsError",
    "RateLimitError",
    "FlowExecutionError",
    "ToolCallLimitError",
    "ReplayError",
    "ReplayDisabledError",
    "ReplayForbiddenError",
    "ReplayInvalidSessionError",
    "ReplayLeftoverError",
    "ReplayMissError",
    "ReplayNoSnapshotsError",
    "ReplaySessionExpiredError",
    "ReplaySessionNotFoundError",
    "trace",
    "trace_scope",
    "trace_scope_sync",
    "current_session_id",
    # names added after 0.2.0
    "AsyncRelayFlow",
    "ChatMessage",
    "RelayExecuteTransport",
    "RelayFlow",
    "RelaySyncExecuteTransport",
    "replay",
    "replay_scope",
    "replay_scope_sync",
    # added by this rewrite
    "APIResponseValidationError",
    # typed output and usage
    "OutputValidationError",
    "Usage",
}


def test_all_exports_cover_the_documented_names() -> None:
    documented = DOCUMENTED_NAMES
    assert len(documented) == 51 + 8 + 1 + 2
    missing = documented - set(noukai_sdk.__all__)
    assert not missing
    assert len(noukai_sdk.__all__) == len(set(noukai_sdk.__all__))
    for name in noukai_sdk.__all__:
        assert getattr(noukai_sdk, name) is not None


def test_exception_hierarchy() -> None:
    for cls in (
        APIConnectionError,
        AuthenticationError,
        PermissionDeniedError,
        FlowNotFoundError,
        InsufficientCreditsError,
        RateLimitError,
        FlowExecutionError,
        ToolCallLimitError,
        ReplayError,
        APIResponseValidationError,
    ):
        assert issubclass(cls, NoukaiError)
    assert issubclass(APITimeoutError, APIConnectionError)
    for name in (
        "ReplayDisabledError",
        "ReplayForbiddenError",
        "ReplayInvalidSessionError",
        "ReplayLeftoverError",
        "ReplayMissError",
        "ReplayNoSnapshotsError",
        "ReplaySessionExpiredError",
        "ReplaySessionNotFoundError",
    ):
        assert issubclass(getattr(noukai_sdk, name), ReplayError)


def test_noukai_error_attributes_text_and_repr() -> None:
    error = NoukaiError("boom")
    assert (error.message, error.status_code, error.code, error.execution_id) == (
        "boom",
        None,
        None,
        None,
    )
    assert (error.request_id, error.response_body) == (None, None)
    assert str(error) == "boom"
    detailed = FlowExecutionError("bad", status_code=500, code="INTERNAL_ERROR", request_id="r-1")
    text = repr(detailed)
    for part in ("FlowExecutionError", "500", "INTERNAL_ERROR", "bad", "r-1"):
        assert part in text
    assert AuthenticationError("x").www_authenticate is None
    assert RateLimitError("x").retry_after is None


def test_version_and_method_parity() -> None:
    assert isinstance(noukai_sdk.__version__, str)
    for sync_cls, async_cls in (
        (noukai_sdk.Flow, noukai_sdk.AsyncFlow),
        (noukai_sdk.Run, noukai_sdk.AsyncRun),
        (noukai_sdk.Job, noukai_sdk.AsyncJob),
    ):
        public_sync = {n for n in dir(sync_cls) if not n.startswith("_")}
        public_async = {n for n in dir(async_cls) if not n.startswith("_")}
        assert public_sync == public_async


def test_the_dev_port_override_is_loopback_only_and_dev_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Noukai(KEY, env="dev", dev_port=9001).base_url == "http://localhost:9001/api/v1"
    monkeypatch.setenv("NOUKAI_DEV_PORT", "9002")
    assert Noukai(KEY, env="dev").base_url == "http://localhost:9002/api/v1"
    assert Noukai(KEY).base_url == PROD  # a stray port variable never affects production
    with pytest.raises(ValueError):
        Noukai(KEY, dev_port=9001)  # production with a dev port is a mistake, not a redirect
    for bad in (0, 70000, True):
        with pytest.raises(ValueError):
            Noukai(KEY, env="dev", dev_port=bad)
    monkeypatch.setenv("NOUKAI_DEV_PORT", "eighty")
    with pytest.raises(ValueError, match="NOUKAI_DEV_PORT"):
        Noukai(KEY, env="dev")


@pytest.mark.parametrize("bad", ["nk_secret_value\n", "nk_sécret", "nk_tab\there", "nk_nul\x00"])
@pytest.mark.parametrize("client_class", [Noukai, AsyncNoukai])
def test_a_key_that_cannot_be_a_header_is_refused_at_construction_without_echoing_it(
    bad: str, client_class: type[Noukai] | type[AsyncNoukai], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(AuthenticationError) as info:
        client_class(bad)
    assert info.value.status_code is None
    assert "secret" not in repr(info.value) and "sécret" not in repr(info.value)
    if "\x00" not in bad:  # environment variables cannot hold NUL
        monkeypatch.setenv("NOUKAI_API_KEY", bad)
        with pytest.raises(AuthenticationError):
            client_class()


@pytest.mark.parametrize("client_class", [Noukai, AsyncNoukai])
def test_a_log_handler_that_is_not_callable_is_refused_at_construction(
    client_class: type[Noukai] | type[AsyncNoukai],
) -> None:
    with pytest.raises(TypeError, match="log_handler"):
        client_class(KEY, log_handler="print")  # type: ignore[arg-type]
