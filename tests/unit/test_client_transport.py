"""What goes over the wire: the requests the clients build, and response bodies they accept.

The transport keeps a parsed URL per path and a pre-merged header set per client; these tests pin
that the result is what ``httpx.Client.build_request`` would send, including an injected client's
own headers, cookies and query parameters, even when they change after the Noukai client exists.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from client_helpers import KEY, Kind, completed, paused, resolve

from noukai_sdk import AsyncNoukai, ExecuteResult, Noukai, PausedResult

EXECUTE_URL = "https://api.noukai.dev/api/v1/seq/acme/support/triage/execute"


class Recorder:
    """An httpx mock transport that records requests and answers every one with ``body``."""

    def __init__(self, body: bytes | None = None, *, headers: dict[str, str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.body = json.dumps(completed()).encode() if body is None else body
        self.headers = {"content-type": "application/json", **(headers or {})}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, content=self.body, headers=self.headers)

    def client(self, kind: Kind, **kwargs: Any) -> Noukai | AsyncNoukai:
        """A Noukai client over an injected httpx client (kept as ``self.http_client``)."""
        transport = httpx.MockTransport(self)
        if kind == "sync":
            self.http_client: httpx.Client | httpx.AsyncClient = httpx.Client(
                transport=transport, **kwargs
            )
            return Noukai(KEY, http_client=self.http_client)
        self.http_client = httpx.AsyncClient(transport=transport, **kwargs)
        return AsyncNoukai(KEY, http_client=self.http_client)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_execute_request_carries_exactly_the_expected_headers(kind: Kind) -> None:
    recorder = Recorder()
    client = recorder.client(kind)
    resolve(client.flow("acme/support/triage").execute("hi", session_id="sess-1"))
    resolve(client.flow("acme/support/triage").execute("hi"))

    with_session, without_session = recorder.requests
    assert str(with_session.url) == EXECUTE_URL
    body = with_session.content
    assert json.loads(body)["message"] == "hi"
    names = [name.decode().lower() for name, _ in with_session.headers.raw]
    assert names[0] == "host"
    assert names.count("content-length") == 1
    assert with_session.headers["host"] == "api.noukai.dev"
    assert with_session.headers["content-length"] == str(len(body))
    assert with_session.headers["content-type"] == "application/json"
    assert with_session.headers["authorization"] == f"Bearer {KEY}"
    assert with_session.headers["accept"] == "application/json"
    assert with_session.headers["user-agent"].startswith("noukai-python/")
    assert with_session.headers["x-session-id"] == "sess-1"
    assert "x-session-id" not in without_session.headers
    assert with_session.extensions["timeout"]["read"] == 300.0


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_headers_of_an_injected_client_are_read_on_every_request(kind: Kind) -> None:
    recorder = Recorder()
    client = recorder.client(kind, headers={"X-Team": "blue", "User-Agent": "theirs"})
    flow = client.flow("acme/support/triage")
    resolve(flow.execute("one"))
    recorder.http_client.headers["X-Team"] = "green"
    resolve(flow.execute("two"))

    first, second = recorder.requests
    assert first.headers["x-team"] == "blue"
    assert second.headers["x-team"] == "green"
    assert second.headers["user-agent"].startswith("noukai-python/")  # the SDK's wins


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_cookies_of_an_injected_client_are_still_sent(kind: Kind) -> None:
    recorder = Recorder()
    client = recorder.client(kind)
    resolve(client.flow("acme/support/triage").execute("one"))
    recorder.http_client.cookies.set("lb", "node-7", domain="api.noukai.dev")
    resolve(client.flow("acme/support/triage").execute("two"))

    first, second = recorder.requests
    assert "cookie" not in first.headers
    assert second.headers["cookie"] == "lb=node-7"
    assert second.headers["authorization"] == f"Bearer {KEY}"
    assert json.loads(second.content)["message"] == "two"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_query_parameters_of_an_injected_client_are_still_sent(kind: Kind) -> None:
    recorder = Recorder()
    client = recorder.client(kind, params={"tenant": "t1"})
    resolve(client.flow("acme/support/triage").execute("hi"))

    (request,) = recorder.requests
    assert request.url.params["tenant"] == "t1"
    assert request.url.path == "/api/v1/seq/acme/support/triage/execute"
    assert json.loads(request.content)["message"] == "hi"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_execute_responses_are_typed_by_status(kind: Kind) -> None:
    recorder = Recorder(json.dumps(paused()).encode())
    client = recorder.client(kind)
    outcome = resolve(client.flow("acme/support/triage").execute("hi", session_id="s-9"))
    assert isinstance(outcome, PausedResult)
    assert outcome.session_id == "s-9"
    recorder.body = json.dumps(completed(status="failed", result=None)).encode()
    outcome = resolve(client.flow("acme/support/triage").execute("hi"))
    assert isinstance(outcome, ExecuteResult)
    assert (outcome.status, outcome.session_id) == ("failed", None)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_json_body_in_utf16_is_still_understood(kind: Kind) -> None:
    recorder = Recorder(json.dumps(completed(result="héllo")).encode("utf-16"))
    outcome = resolve(recorder.client(kind).flow("acme/support/triage").execute("hi"))
    assert isinstance(outcome, ExecuteResult)
    assert outcome.output == "héllo"


def test_importing_the_sdk_loads_no_generated_request_builder(
    fresh_import: dict[str, Any],
) -> None:
    assert [m for m in fresh_import["import"] if m.startswith("noukai_sdk_generated.api")] == []
