"""HTTP errors: status mapping, human messages for every body shape, attributes, repr."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from client_helpers import BASE, KEY, Kind, make_client, resolve
from wire_double import KINDS, Wire

import noukai_sdk
from noukai_sdk import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    FlowExecutionError,
    FlowNotFoundError,
    InsufficientCreditsError,
    NoukaiError,
    PermissionDeniedError,
    RateLimitError,
)

URL = "/seq/o/p/s/execute"


def execute_error(
    kind: Kind, response: httpx.Response | Exception, **client_kwargs: Any
) -> NoukaiError:
    client = make_client(kind, **client_kwargs)
    with respx.mock(base_url=BASE) as mock:
        route = mock.post(URL)
        if isinstance(response, Exception):
            route.side_effect = response
        else:
            route.return_value = response
        with pytest.raises(NoukaiError) as info:
            resolve(client.flow("o/p/s").execute("hi"))
    return info.value


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthenticationError),
        (402, InsufficientCreditsError),
        (403, PermissionDeniedError),
        (404, FlowNotFoundError),
        (429, RateLimitError),
        (400, FlowExecutionError),
        (409, FlowExecutionError),
        (410, FlowExecutionError),
        (413, FlowExecutionError),
        (422, FlowExecutionError),
        (500, FlowExecutionError),
        (502, FlowExecutionError),
        (503, FlowExecutionError),
        (301, FlowExecutionError),
    ],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_status_mapping(kind: Kind, status: int, cls: type[NoukaiError]) -> None:
    body = {"detail": {"code": "SOME_CODE", "message": "it broke"}}
    error = execute_error(
        kind, httpx.Response(status, json=body, headers={"X-Request-ID": "req-1"}), max_retries=0
    )
    assert type(error) is cls
    assert error.status_code == status
    assert error.code == "SOME_CODE"
    assert error.message == str(error) == "it broke"
    assert error.request_id == "req-1"
    assert error.response_body == body
    assert error.execution_id is None


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (b'{"detail": {"code": "FLOW_NOT_FOUND", "message": "nope"}}', "FLOW_NOT_FOUND", "nope"),
        (
            b'{"detail": {"code": "FLOW_NOT_FOUND"}}',
            "FLOW_NOT_FOUND",
            "HTTP 404 Not Found (FLOW_NOT_FOUND)",
        ),
        (b'{"detail": "invalid key"}', None, "invalid key"),
        (
            b'{"detail": [{"loc": ["body", "message"], "msg": "field required", "type": "missing"}]}',
            None,
            "Request validation failed: body.message: field required",
        ),
        (b'{"error": "x"}', None, "x"),
        (b'{"weird": [1, 2]}', None, 'HTTP 404 Not Found: {"weird":[1,2]}'),
        (b"[1, 2]", None, "HTTP 404 Not Found: [1,2]"),
        (b"<html>Bad gateway</html>", None, "HTTP 404 Not Found: <html>Bad gateway</html>"),
        (b"", None, "HTTP 404 Not Found (empty response body)"),
    ],
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_messages_for_every_body_shape(
    kind: Kind, content: bytes, code: str | None, message: str
) -> None:
    error = execute_error(kind, httpx.Response(404, content=content))
    assert isinstance(error, FlowNotFoundError)
    assert error.code == code
    assert error.message == message
    assert "None" not in error.message
    assert "{'" not in error.message  # never a Python repr


def test_authentication_error_keeps_www_authenticate() -> None:
    error = execute_error(
        "sync",
        httpx.Response(
            401, json={"detail": "bad key"}, headers={"WWW-Authenticate": 'Bearer realm="noukai"'}
        ),
    )
    assert isinstance(error, AuthenticationError)
    assert error.www_authenticate == 'Bearer realm="noukai"'


def test_repr_shows_class_status_code_message_request_id() -> None:
    error = execute_error(
        "sync",
        httpx.Response(
            403,
            json={"detail": {"code": "FORBIDDEN", "message": "no"}},
            headers={"X-Request-ID": "r-2"},
        ),
    )
    assert (
        repr(error)
        == "PermissionDeniedError(status_code=403, code='FORBIDDEN', message='no', request_id='r-2')"
    )


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_timeouts_and_connection_errors(kind: Kind) -> None:
    timeout = execute_error(kind, httpx.ReadTimeout("timed out"))
    assert type(timeout) is APITimeoutError
    assert isinstance(timeout, APIConnectionError)
    assert "timed out" in str(timeout)
    error = execute_error(kind, httpx.RemoteProtocolError("server hung up"))
    assert type(error) is APIConnectionError
    assert "server hung up" in str(error)
    assert error.status_code is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("status", "body", "cls", "code", "message"),
    [
        (
            401,
            {"detail": {"code": "UNAUTHENTICATED", "message": "bad key"}},
            AuthenticationError,
            "UNAUTHENTICATED",
            "bad key",
        ),
        (
            402,
            {"detail": {"code": "INSUFFICIENT_CREDITS", "message": "pay"}},
            InsufficientCreditsError,
            "INSUFFICIENT_CREDITS",
            "pay",
        ),
        (403, {"detail": "forbidden"}, PermissionDeniedError, None, "forbidden"),
        (
            404,
            {"detail": {"code": "FLOW_NOT_FOUND", "message": "nope"}},
            FlowNotFoundError,
            "FLOW_NOT_FOUND",
            "nope",
        ),
        (
            409,
            {"detail": {"code": "TOOL_ITERATION_LIMIT", "message": "limit"}},
            FlowExecutionError,
            "TOOL_ITERATION_LIMIT",
            "limit",
        ),
        (
            502,
            {"detail": {"code": "BYOK_KEY_REJECTED", "message": "byok"}},
            FlowExecutionError,
            "BYOK_KEY_REJECTED",
            "byok",
        ),
    ],
)
def test_each_error_status_keeps_code_message_request_id_and_body(
    kind: str, status: int, body: Any, cls: type[NoukaiError], code: str | None, message: str
) -> None:
    wire = Wire(
        httpx.Response(
            status,
            json=body,
            headers={"X-Request-ID": "req-9", "WWW-Authenticate": 'Bearer realm="n"'},
        )
    )
    with pytest.raises(cls) as info:
        resolve(wire.client(kind).flow("acme/support/triage").execute("hi"))
    error = info.value
    assert (error.status_code, error.code, error.message, str(error)) == (
        status,
        code,
        message,
        message,
    )
    assert error.request_id == "req-9" and error.execution_id is None
    assert error.response_body == body
    if isinstance(error, AuthenticationError):
        assert error.www_authenticate == 'Bearer realm="n"'


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>Bad Gateway</html>",
        b'{"error": 1}',
        b"[]",
        b'{"detail": [{"loc": ["body", "x"], "msg": "bad"}]}',
    ],
)
def test_unusual_error_bodies_give_human_messages(kind: str, body: bytes) -> None:
    wire = Wire(httpx.Response(422, content=body))
    with pytest.raises(FlowExecutionError) as info:
        resolve(wire.client(kind).flow("acme/support/triage").execute("hi"))
    text = str(info.value)
    assert text and text != "None" and "{'" not in text


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("template", ["bad key Bearer {key}", "key {key} is revoked"])
def test_an_echoed_key_is_masked_in_errors_and_logs(kind: str, template: str) -> None:
    events: list[dict[str, Any]] = []
    echo = {"detail": template.format(key=KEY)}
    wire = Wire(httpx.Response(401, json=echo))
    with pytest.raises(AuthenticationError) as info:
        resolve(
            wire.client(kind, log_handler=events.append, log_payloads=True)
            .flow("acme/support/triage")
            .execute("hi")
        )
    error = info.value
    assert "nk_***" in str(error)
    for text in (
        str(error),
        repr(error),
        repr(error.response_body),
        repr(error.args),
        repr(events),
    ):
        assert KEY not in text


@pytest.mark.parametrize(
    ("error_class", "parent"),
    [
        *[
            (name, "NoukaiError")
            for name in (
                "APIConnectionError",
                "APIResponseValidationError",
                "AuthenticationError",
                "PermissionDeniedError",
                "FlowNotFoundError",
                "InsufficientCreditsError",
                "RateLimitError",
                "FlowExecutionError",
                "ToolCallLimitError",
                "ReplayError",
            )
        ],
        ("APITimeoutError", "APIConnectionError"),
        ("StreamInterruptedError", "APIConnectionError"),
        *[
            (f"Replay{name}Error", "ReplayError")
            for name in (
                "Disabled",
                "Forbidden",
                "InvalidSession",
                "Leftover",
                "Miss",
                "NoSnapshots",
                "SessionExpired",
                "SessionNotFound",
            )
        ],
    ],
)
def test_every_error_is_a_noukai_error_in_the_documented_hierarchy(
    error_class: str, parent: str
) -> None:
    assert issubclass(getattr(noukai_sdk, error_class), getattr(noukai_sdk, parent))
    assert issubclass(getattr(noukai_sdk, error_class), NoukaiError)


def test_an_error_built_by_hand_has_empty_attributes_and_its_message_as_text() -> None:
    error = NoukaiError("boom")
    assert (error.message, error.status_code, error.code, error.execution_id) == (
        "boom",
        None,
        None,
        None,
    )
    assert (error.request_id, error.response_body) == (None, None)
    assert str(error) == "boom"
    assert AuthenticationError("x").www_authenticate is None
    assert RateLimitError("x").retry_after is None


def test_a_stream_interruption_keeps_where_the_run_stopped() -> None:
    error = noukai_sdk.StreamInterruptedError(
        "cut", execution_id="e", step_index=2, accumulated_outputs={"a": 1}
    )
    assert (error.execution_id, error.step_index, error.accumulated_outputs) == ("e", 2, {"a": 1})
