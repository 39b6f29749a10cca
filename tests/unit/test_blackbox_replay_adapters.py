"""The FastAPI and Flask adapters from the outside (statuses, headers, and errors raised before or after the response starts):
JSON error bodies, ``X-Noukai-Session``, the gate, and ASGI apps that fail mid-response."""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from flask import Flask
from starlette.testclient import TestClient
from test_replay_helpers import SESSION_ID, execution, session, wire_bytes

from noukai_sdk import AsyncNoukai, Noukai, ReplayMissError, current_session_id
from noukai_sdk.adapters.fastapi import NoukaiTraceMiddleware
from noukai_sdk.adapters.flask import init_noukai_trace
from noukai_sdk_generated.models import ErrorBody

BASE = "https://api.noukai.dev/api/v1"
SESSION_PATH = f"/seq/sessions/{SESSION_ID}"
Message = MutableMapping[str, Any]


@pytest.fixture(autouse=True)
def _gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", "yes")


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def fetch_answers(api: respx.MockRouter, status: int) -> None:
    body = ErrorBody.model_validate({"detail": {"code": "X", "message": "server says no"}})
    api.get(SESSION_PATH).mock(
        return_value=httpx.Response(status, content=json.dumps(body.to_wire()).encode())
    )


ERROR_CASES = [
    (
        400,
        SESSION_ID,
        "replay_invalid_session",
        f"Invalid session id '{SESSION_ID}': server says no",
    ),
    (
        403,
        SESSION_ID,
        "replay_forbidden",
        f"Replay forbidden for session '{SESSION_ID}': server says no",
    ),
    (404, SESSION_ID, "replay_session_not_found", f"No session found for id '{SESSION_ID}'"),
    (410, SESSION_ID, "replay_session_expired", f"Session '{SESSION_ID}' has expired"),
]


def starlette_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(NoukaiTraceMiddleware, client=AsyncNoukai("nk_test", org="a", project="b"))

    @app.get("/who")
    async def who() -> dict[str, Any]:
        return {"session": current_session_id()}

    return app


def flask_app() -> Flask:
    app = Flask(__name__)
    init_noukai_trace(app, client=Noukai("nk_test", org="a", project="b"))

    @app.get("/who")
    def who() -> Any:
        return {"session": current_session_id()}

    return app


@pytest.mark.parametrize(("status", "replay_id", "key", "message"), ERROR_CASES)
def test_fastapi_fetch_failures_become_documented_json_bodies(
    api: respx.MockRouter, status: int, replay_id: str, key: str, message: str
) -> None:
    fetch_answers(api, status)
    with TestClient(starlette_app()) as http:
        response = http.get("/who", headers={"X-Noukai-Replay": replay_id})
    assert response.status_code == status
    assert response.json() == {"error": key, "message": message}


@pytest.mark.parametrize(("status", "replay_id", "key", "message"), ERROR_CASES)
def test_flask_fetch_failures_become_documented_json_bodies(
    api: respx.MockRouter, status: int, replay_id: str, key: str, message: str
) -> None:
    fetch_answers(api, status)
    response = flask_app().test_client().get("/who", headers={"X-Noukai-Replay": replay_id})
    assert response.status_code == status
    assert response.get_json() == {"error": key, "message": message}


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_a_non_uuid_header_is_a_400_without_any_fetch(
    api: respx.MockRouter, framework: str
) -> None:
    if framework == "fastapi":
        with TestClient(starlette_app()) as http:
            response = http.get("/who", headers={"X-Noukai-Replay": "../../admin"})
        status, body = response.status_code, response.json()
    else:
        answer = flask_app().test_client().get("/who", headers={"X-Noukai-Replay": "../../admin"})
        status, body = answer.status_code, answer.get_json()
    assert status == 400
    assert body["error"] == "replay_invalid_session"
    assert body["message"].startswith("Invalid session id '../../admin'")
    assert api.calls.call_count == 0


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
@pytest.mark.parametrize("gate_value", ["", "0", "enabled"])
def test_without_the_gate_the_header_is_ignored_and_the_request_captures(
    api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, framework: str, gate_value: str
) -> None:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", gate_value)
    if framework == "fastapi":
        with TestClient(starlette_app()) as http:
            response = http.get("/who", headers={"X-Noukai-Replay": SESSION_ID})
        status, body, header = response.status_code, response.json(), response.headers
    else:
        answer = flask_app().test_client().get("/who", headers={"X-Noukai-Replay": SESSION_ID})
        status, body, header = answer.status_code, answer.get_json(), answer.headers
    assert status == 200
    assert body["session"] != SESSION_ID
    assert header["X-Noukai-Session"] == body["session"]
    assert api.calls.call_count == 0


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_every_scoped_response_names_its_session(api: respx.MockRouter, framework: str) -> None:
    api.get(SESSION_PATH).mock(return_value=httpx.Response(200, content=wire_bytes(session())))
    if framework == "fastapi":
        with TestClient(starlette_app()) as http:
            replayed = http.get("/who", headers={"X-Noukai-Replay": SESSION_ID})
            captured = http.get("/who", headers={"X-Noukai-Replay": ""})
        assert replayed.headers.get_list("x-noukai-session") == [SESSION_ID]
        assert captured.headers["x-noukai-session"] == captured.json()["session"]
    else:
        http_client = flask_app().test_client()
        replayed_answer = http_client.get("/who", headers={"X-Noukai-Replay": SESSION_ID})
        captured_answer = http_client.get("/who")
        assert replayed_answer.headers.getlist("X-Noukai-Session") == [SESSION_ID]
        captured_body = captured_answer.get_json()
        assert captured_answer.headers["X-Noukai-Session"] == captured_body["session"]


def test_adapters_check_the_client_kind_at_registration() -> None:
    with pytest.raises(TypeError, match="AsyncNoukai"):
        NoukaiTraceMiddleware(FastAPI(), client=Noukai("nk_test"))
    with pytest.raises(TypeError, match="Noukai"):
        init_noukai_trace(Flask(__name__), client=AsyncNoukai("nk_test"))
    with pytest.raises(TypeError):
        NoukaiTraceMiddleware(FastAPI(), client=object())


# --- raw ASGI: an app that fails after starting its response --------------------------------------


def http_scope(*headers: tuple[bytes, bytes]) -> Message:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": list(headers),
        "server": ("test", 80),
        "client": ("test", 1),
    }


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def failing_app(error: BaseException) -> Any:
    async def app(scope: Message, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise error

    return app


async def test_an_app_error_after_the_response_started_propagates_with_one_start() -> None:
    middleware = NoukaiTraceMiddleware(
        failing_app(RuntimeError("app broke")), client=AsyncNoukai("nk_test")
    )
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(RuntimeError, match="app broke"):
        await middleware(http_scope(), receive, send)
    assert [m["type"] for m in sent].count("http.response.start") == 1
    assert current_session_id() is None


async def test_a_replay_error_after_the_response_started_ends_it_without_a_second_start(
    api: respx.MockRouter,
) -> None:
    api.get(SESSION_PATH).mock(
        return_value=httpx.Response(200, content=wire_bytes(session(execution("exec-1"))))
    )
    middleware = NoukaiTraceMiddleware(
        failing_app(ReplayMissError("Replay miss: diverged")), client=AsyncNoukai("nk_test")
    )
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware(http_scope((b"x-noukai-replay", SESSION_ID.encode())), receive, send)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1
    assert starts[0]["status"] == 200
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert current_session_id() is None
