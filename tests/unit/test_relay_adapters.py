"""Relay routes (Starlette and Flask): handling order, forwarding, and the status/body table."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from flask import Flask, abort
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.testclient import TestClient

from noukai_sdk import AsyncNoukai, Noukai
from noukai_sdk.adapters.relay import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_MESSAGES,
    DEFAULT_RELAY_PATH,
    TRACE_CONTEXT_HEADERS,
    RelayBounds,
    flow_relay_blueprint,
    mount_flow_relay,
)

KEY = "nk_test_relay_0123456789"
UPSTREAM = "https://api.noukai.dev/api/v1/seq/o/p/s/execute"
Handler = Callable[[httpx.Request], httpx.Response]


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"status": "completed"}, headers={"X-Request-ID": "up-1"})


@dataclass
class Relay:
    """A relay app of one framework, its upstream mock, and what the hooks saw."""

    framework: str
    upstream: Handler = ok
    sent: list[httpx.Request] = field(default_factory=list[httpx.Request])
    authorized: list[Any] = field(default_factory=list[Any])
    deny: bool = False
    bounds: RelayBounds | None = None
    log_handler: Callable[[dict[str, Any]], object] | None = None
    options: dict[str, Any] = field(default_factory=dict[str, Any])

    def record(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self.upstream(request)

    def authorize_sync(self, request: Any) -> bool:
        self.authorized.append(request)
        if self.deny:
            if self.framework == "flask":
                abort(403)
            raise HTTPException(403, "no")
        return True

    def client(self) -> Any:
        if self.framework == "flask":
            app = Flask(__name__)
            noukai = Noukai(
                KEY,
                http_client=httpx.Client(transport=httpx.MockTransport(self.record)),
                log_handler=self.log_handler,
            )
            app.register_blueprint(
                flow_relay_blueprint(
                    client=noukai,
                    org="o",
                    project="p",
                    slug="s",
                    authorize=self.authorize_sync,
                    bounds=self.bounds,
                    **self.options,
                )
            )
            return app.test_client()
        starlette_app = Starlette()
        async_noukai = AsyncNoukai(
            KEY,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(self.record)),
            log_handler=self.log_handler,
        )

        async def authorize(request: Request) -> bool:
            return self.authorize_sync(request)

        bounds = self.bounds or RelayBounds()
        mount_flow_relay(
            starlette_app,
            client=async_noukai,
            org="o",
            project="p",
            slug="s",
            authorize=authorize,
            max_body_bytes=bounds.max_body_bytes,
            max_messages=bounds.max_messages,
            **self.options,
        )
        return TestClient(starlette_app)

    def post(self, body: bytes | Iterator[bytes], **headers: str) -> Reply:
        client = self.client()
        if self.framework == "flask":
            data = body if isinstance(body, bytes) else b"".join(body)
            response = client.post(DEFAULT_RELAY_PATH, data=data, headers=headers)
            return Reply(response.status_code, lowered(response.headers), response.get_data())
        response = client.post(DEFAULT_RELAY_PATH, content=body, headers=headers)
        return Reply(response.status_code, lowered(response.headers), response.content)


def lowered(headers: Any) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


@pytest.fixture(params=["starlette", "flask"])
def relay(request: pytest.FixtureRequest) -> Relay:
    return Relay(request.param)


def test_constants() -> None:
    assert DEFAULT_RELAY_PATH == "/agent/execute"
    assert DEFAULT_MAX_BODY_BYTES == 262_144
    assert DEFAULT_MAX_MESSAGES == 40
    assert TRACE_CONTEXT_HEADERS == ("traceparent", "tracestate")
    assert RelayBounds() == RelayBounds(max_body_bytes=262_144, max_messages=40)


def test_forwards_the_body_with_the_key_and_returns_the_upstream_reply(relay: Relay) -> None:
    reply = relay.post(
        b'{"messages":[{"role":"user","content":"h\\u00e9"}],"message":"x", "trace" : false}',
        Cookie="c=1",
        **{"X-Custom": "x", "X-Session-Id": "s-1"},
    )
    assert (reply.status, reply.json()) == (200, {"status": "completed"})
    assert reply.headers["x-request-id"] == "up-1"
    [upstream] = relay.sent
    assert str(upstream.url) == UPSTREAM
    assert (
        upstream.content == '{"messages":[{"role":"user","content":"hé"}],"message":"x"}'.encode()
    )
    assert upstream.headers["authorization"] == f"Bearer {KEY}"
    assert upstream.headers["x-noukai-api-version"] == "2026-05-31"
    for header in ("cookie", "x-custom", "x-session-id", "traceparent"):
        assert header not in upstream.headers
    assert len(relay.authorized) == 1


def test_version_selects_the_upstream_path(relay: Relay) -> None:
    relay.options["version"] = 3
    relay.post(b"{}")
    assert str(relay.sent[0].url) == UPSTREAM.replace("/s/execute", "/s/v3/execute")


def test_trace_context_is_forwarded_when_present_and_non_empty(relay: Relay) -> None:
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    relay.post(b"{}", TraceParent=parent, tracestate="")
    assert relay.sent[0].headers["traceparent"] == parent
    assert "tracestate" not in relay.sent[0].headers


def test_an_empty_body_is_forwarded_as_an_empty_object(relay: Relay) -> None:
    assert relay.post(b"").status == 200
    assert relay.sent[0].content == b"{}"


@pytest.mark.parametrize("size", [50, 51])
def test_body_cap_is_inclusive_and_checked_before_authorize(relay: Relay, size: int) -> None:
    relay.bounds = RelayBounds(max_body_bytes=50)
    body = b'{"message":"' + b"x" * (size - 14) + b'"}'
    assert len(body) == size
    reply = relay.post(body)
    if size == 50:
        assert reply.status == 200
    else:
        assert (reply.status, reply.json()) == (413, {"detail": "BODY_TOO_LARGE"})
        assert relay.sent == [] and relay.authorized == []


def test_a_chunked_upload_over_the_cap_is_refused_without_an_upstream_call() -> None:
    relay = Relay("starlette", bounds=RelayBounds(max_body_bytes=100))
    reply = relay.post(iter([b'{"message":"', b"x" * 80, b"x" * 80, b'"}']))
    assert (reply.status, reply.json()) == (413, {"detail": "BODY_TOO_LARGE"})
    assert relay.sent == []


@pytest.mark.parametrize("name", ["messages", "toolCallMessages", "tool_call_messages"])
def test_message_lists_over_the_cap_are_refused_in_every_spelling(relay: Relay, name: str) -> None:
    relay.bounds = RelayBounds(max_messages=2)
    entry = {"role": "user", "content": "x"}
    reply = relay.post(json.dumps({name: [entry] * 3}).encode())
    assert (reply.status, reply.json()) == (413, {"detail": "TOO_MANY_MESSAGES"})
    assert relay.sent == [] and relay.authorized == []
    assert relay.post(json.dumps({"messages": [entry, entry]}).encode()).status == 200


def test_non_list_messages_are_forwarded_unchecked(relay: Relay) -> None:
    relay.bounds = RelayBounds(max_messages=0)
    assert relay.post(b'{"messages":"xxx"}').status == 200
    assert relay.sent[0].content == b'{"messages":"xxx"}'


@pytest.mark.parametrize(
    "body",
    [b"{nope", b"[1,2]", b'"text"', b"3", b"\xff\xfe\xfa", b'{"x": NaN}', b"[" * 100_000],
)
def test_invalid_json_is_refused_before_authorize(relay: Relay, body: bytes) -> None:
    reply = relay.post(body)
    assert (reply.status, reply.json()) == (400, {"detail": "INVALID_JSON"})
    assert relay.sent == [] and relay.authorized == []


def test_a_utf16_body_is_reencoded_as_utf8(relay: Relay) -> None:
    relay.post('{"message":"é"}'.encode("utf-16"))
    assert relay.sent[0].content == '{"message":"é"}'.encode()


def test_authorize_denies_with_the_frameworks_response(relay: Relay) -> None:
    relay.deny = True
    assert relay.post(b"{}").status == 403
    assert relay.sent == []


def test_starlette_accepts_a_plain_authorize_function() -> None:
    app = Starlette()
    seen: list[str] = []
    noukai = AsyncNoukai(KEY, http_client=httpx.AsyncClient(transport=httpx.MockTransport(ok)))
    mount_flow_relay(
        app,
        client=noukai,
        org="o",
        project="p",
        slug="s",
        authorize=lambda request: seen.append(request.method) or True,
    )
    assert TestClient(app).post(DEFAULT_RELAY_PATH, content=b"{}").status_code == 200
    assert seen == ["POST"]


def upstream(status: int, **kwargs: Any) -> Handler:
    return lambda request: httpx.Response(status, **kwargs)


@pytest.mark.parametrize(
    ("response", "status", "body"),
    [
        (
            upstream(422, json={"detail": {"code": "MESSAGES_ROLE_INVALID", "message": "m"}}),
            422,
            {"detail": {"code": "MESSAGES_ROLE_INVALID", "message": "m"}},
        ),
        (upstream(200, json=[1, 2]), 200, [1, 2]),
        (upstream(500, json={"detail": "boom"}), 500, {"detail": "boom"}),
        (upstream(503, text="Service Unavailable"), 503, {"detail": "UPSTREAM_NON_JSON"}),
        (upstream(200, text="<html>"), 200, {"detail": "UPSTREAM_NON_JSON"}),
        (upstream(404, json="missing"), 404, {"detail": "UPSTREAM_NON_JSON"}),
        (upstream(200, content=b"null"), 200, {"detail": "UPSTREAM_NON_JSON"}),
    ],
)
def test_upstream_status_and_body_table(
    relay: Relay, response: Handler, status: int, body: Any
) -> None:
    relay.upstream = response
    reply = relay.post(b"{}")
    assert (reply.status, reply.json()) == (status, body)
    assert len(relay.sent) == 1  # a POST is never retried, not even on 5xx


def test_upstream_key_order_is_kept(relay: Relay) -> None:
    relay.upstream = upstream(200, content=b'{"z":1,"a":2,"status":"completed"}')
    assert relay.post(b"{}").content == b'{"z":1,"a":2,"status":"completed"}'


def test_rate_limit_passes_through_with_retry_after_and_request_id(relay: Relay) -> None:
    relay.upstream = upstream(
        429, json={"detail": "slow"}, headers={"Retry-After": "12", "X-Request-ID": "r-429"}
    )
    reply = relay.post(b"{}")
    assert (reply.status, reply.json()) == (429, {"detail": "slow"})
    assert reply.headers["retry-after"] == "12"
    assert reply.headers["x-request-id"] == "r-429"


def test_the_key_never_reaches_the_caller(relay: Relay) -> None:
    relay.upstream = upstream(401, json={"detail": f"bad key {KEY}"})
    reply = relay.post(b"{}")
    assert reply.status == 401
    assert KEY.encode() not in reply.content


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
def test_upstream_unreachable_is_502(relay: Relay, failure: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    relay.upstream = fail
    reply = relay.post(b"{}")
    assert (reply.status, reply.json()) == (502, {"detail": "UPSTREAM_UNAVAILABLE"})


def test_other_methods_are_not_allowed(relay: Relay) -> None:
    client = relay.client()
    assert client.get(DEFAULT_RELAY_PATH).status_code == 405


def test_registration_checks() -> None:
    sync_client = Noukai(KEY)
    async_client = AsyncNoukai(KEY)

    async def allow(request: Any) -> None:
        return None

    with pytest.raises(TypeError, match="AsyncNoukai"):
        mount_flow_relay(
            Starlette(), client=sync_client, org="o", project="p", slug="s", authorize=allow
        )
    with pytest.raises(TypeError, match="Noukai"):
        flow_relay_blueprint(client=async_client, org="o", project="p", slug="s", authorize=print)
    with pytest.raises(ValueError, match="version"):
        mount_flow_relay(
            Starlette(),
            client=async_client,
            org="o",
            project="p",
            slug="s",
            authorize=allow,
            version=-1,
        )
    with pytest.raises(ValueError, match="slug"):
        flow_relay_blueprint(client=sync_client, org="o", project="p", slug="a/b", authorize=print)
    with pytest.raises(ValueError, match="max_messages"):
        RelayBounds(max_messages=-1)


def test_blueprint_names_allow_several_relays_per_app() -> None:
    client = Noukai(KEY)
    first = flow_relay_blueprint(client=client, org="o", project="p", slug="s", authorize=print)
    second = flow_relay_blueprint(
        client=client, org="o", project="p", slug="t", path="/t", authorize=print
    )
    assert first.name == "noukai_flow_relay_o_p_s__agent_execute"
    app = Flask(__name__)
    app.register_blueprint(first)
    app.register_blueprint(second)
    assert {rule.rule for rule in app.url_map.iter_rules()} >= {"/agent/execute", "/t"}


class BrokenInput:
    """A WSGI input that fails mid-body, like a client that disconnects."""

    def read(self, size: int = -1) -> bytes:
        raise OSError("connection reset")

    def readline(self, size: int = -1) -> bytes:
        raise OSError("connection reset")


def test_flask_read_error_is_invalid_json() -> None:
    relay = Relay("flask")
    client = relay.client()
    response = client.post(
        DEFAULT_RELAY_PATH,
        environ_overrides={"wsgi.input": BrokenInput(), "CONTENT_LENGTH": "100"},
    )
    assert (response.status_code, response.get_json()) == (400, {"detail": "INVALID_JSON"})
    assert relay.sent == [] and relay.authorized == []


async def test_starlette_client_disconnect_is_invalid_json() -> None:
    seen: list[Any] = []
    app = Starlette()

    async def authorize(request: Request) -> None:
        seen.append(request)

    mount_flow_relay(
        app,
        client=AsyncNoukai(KEY, http_client=httpx.AsyncClient(transport=httpx.MockTransport(ok))),
        org="o",
        project="p",
        slug="s",
        authorize=authorize,
    )
    messages: list[MutableMapping[str, Any]] = []
    incoming: list[MutableMapping[str, Any]] = [
        {"type": "http.request", "body": b'{"mess', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> MutableMapping[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": DEFAULT_RELAY_PATH,
        "headers": [],
        "query_string": b"",
    }
    await app(scope, receive, send)
    assert messages[0]["status"] == 400
    assert json.loads(messages[1]["body"]) == {"detail": "INVALID_JSON"}
    assert seen == []


def test_the_client_log_handler_sees_only_forwarded_requests(relay: Relay) -> None:
    events: list[dict[str, Any]] = []
    relay.log_handler = events.append
    relay.bounds = RelayBounds(max_body_bytes=10)
    relay.post(b'{"message":"far too long"}')
    assert events == []
    relay.post(b"{}")
    assert [(e["phase"], e["path"]) for e in events] == [
        ("request", "/seq/o/p/s/execute"),
        ("response", "/seq/o/p/s/execute"),
    ]
    assert KEY not in repr(events)


@pytest.mark.parametrize(
    ("blocked", "code", "message"),
    [
        (
            "starlette",
            "from noukai_sdk.adapters.relay import mount_flow_relay\n"
            "mount_flow_relay(object(), client=None, org='o', project='p', slug='s', authorize=print)",
            "pip install starlette",
        ),
        (
            "flask",
            "from noukai_sdk.adapters.relay import flow_relay_blueprint\n"
            "flow_relay_blueprint(client=None, org='o', project='p', slug='s', authorize=print)",
            "pip install flask",
        ),
    ],
)
def test_a_missing_framework_is_a_clear_import_error(blocked: str, code: str, message: str) -> None:
    import subprocess
    import sys

    script = (
        f"import sys\nsys.modules[{blocked!r}] = None\ntry:\n"
        + "".join(f"    {line}\n" for line in code.splitlines())
        + "except ImportError as error:\n    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert message in result.stdout
