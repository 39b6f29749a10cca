"""The FastAPI and Flask adapters with the Noukai API mocked by respx."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from flask import Flask
from starlette.testclient import TestClient
from test_replay_helpers import SESSION_ID, execution, session, step, wire_bytes

from noukai_sdk import AsyncNoukai, Noukai
from noukai_sdk._replay import current_session_id
from noukai_sdk.adapters.fastapi import NoukaiTraceMiddleware
from noukai_sdk.adapters.flask import init_noukai_trace

BASE = "https://api.noukai.dev/api/v1"
EXECUTE_PATH = "/seq/acme/main/grade-3/execute"
LIVE_RESULT = {"status": "completed", "result": "live", "flowId": "f", "blockCount": 1}


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post(EXECUTE_PATH).mock(return_value=httpx.Response(200, json=LIVE_RESULT))
        yield router


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", "1")


def serve_session(api: respx.MockRouter, *executions: Any) -> respx.Route:
    body = wire_bytes(session(*executions))
    return api.get(f"/seq/sessions/{SESSION_ID}").mock(
        return_value=httpx.Response(200, content=body)
    )


def sent_session_ids(api: respx.MockRouter) -> list[str | None]:
    return [
        call.request.headers.get("x-session-id")
        for call in api.calls
        if call.request.url.path.endswith("/execute")
    ]


# --- FastAPI ----------------------------------------------------------------------------------


def fastapi_app(**options: Any) -> FastAPI:
    noukai = AsyncNoukai("nk_test", org="acme", project="main")
    app = FastAPI()
    app.add_middleware(NoukaiTraceMiddleware, client=noukai, **options)

    @app.get("/grade")
    async def grade() -> JSONResponse:
        result = await noukai.flow("grade-3").execute(message="hi")
        return JSONResponse({"result": result.result}, headers={"X-Noukai-Session": "app-set"})

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> Any:
            for part in ("a", "b", "c"):
                yield part

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"session": current_session_id()}

    return app


def test_fastapi_capture_advertises_the_session_id_sent_upstream(api: respx.MockRouter) -> None:
    with TestClient(fastapi_app()) as http:
        response = http.get("/grade")
    assert response.status_code == 200
    assert response.headers.get_list("x-noukai-session") == sent_session_ids(api)
    assert len(response.headers["x-noukai-session"]) == 36


def test_fastapi_ignores_the_replay_header_without_the_gate(api: respx.MockRouter) -> None:
    fetch = serve_session(api, execution("exec-1"))
    with TestClient(fastapi_app()) as http:
        response = http.get("/grade", headers={"X-Noukai-Replay": SESSION_ID})
    assert response.json() == {"result": "live"}
    assert not fetch.called
    assert response.headers["x-noukai-session"] != SESSION_ID


def test_fastapi_replays_with_the_gate(api: respx.MockRouter, gate: None) -> None:
    serve_session(api, execution("exec-1", steps=[step("s", "recorded")]))
    with TestClient(fastapi_app()) as http:
        response = http.get("/grade", headers={"X-Noukai-Replay": SESSION_ID})
    assert response.json() == {"result": "recorded"}
    assert response.headers.get_list("x-noukai-session") == [SESSION_ID]
    assert sent_session_ids(api) == []


@pytest.mark.parametrize(
    ("status", "replay_id", "error"),
    [
        (404, SESSION_ID, "replay_session_not_found"),
        (403, SESSION_ID, "replay_forbidden"),
        (410, SESSION_ID, "replay_session_expired"),
        (200, "not-a-uuid", "replay_invalid_session"),
    ],
)
def test_fastapi_maps_fetch_errors_to_json(
    status: int, replay_id: str, error: str, api: respx.MockRouter, gate: None
) -> None:
    api.get(f"/seq/sessions/{SESSION_ID}").mock(return_value=httpx.Response(status))
    with TestClient(fastapi_app()) as http:
        response = http.get("/grade", headers={"X-Noukai-Replay": replay_id})
    assert response.status_code == (400 if replay_id == "not-a-uuid" else status)
    assert response.json()["error"] == error
    assert response.json()["message"]


def test_fastapi_maps_no_snapshots_to_409(api: respx.MockRouter, gate: None) -> None:
    serve_session(api, execution("meta", snapshots=False))
    with TestClient(fastapi_app()) as http:
        response = http.get("/grade", headers={"X-Noukai-Replay": SESSION_ID})
    assert (response.status_code, response.json()["error"]) == (409, "replay_no_snapshots")
    assert response.headers["x-noukai-session"] == SESSION_ID


def test_fastapi_maps_a_miss_in_the_route_to_500_with_the_session_header(
    api: respx.MockRouter, gate: None
) -> None:
    serve_session(api, execution("exec-1", "another-flow"))
    with TestClient(fastapi_app()) as http:
        response = http.get("/grade", headers={"X-Noukai-Replay": SESSION_ID})
    assert (response.status_code, response.json()["error"]) == (500, "replay_error")
    assert response.headers["x-noukai-session"] == SESSION_ID


def test_fastapi_leftovers_after_the_response_started_keep_the_response(
    api: respx.MockRouter, gate: None
) -> None:
    serve_session(api, execution("exec-1"), execution("exec-2"))
    with TestClient(fastapi_app()) as http:
        response = http.get("/health", headers={"X-Noukai-Replay": SESSION_ID})
    assert response.status_code == 200
    assert response.json() == {"session": SESSION_ID}


async def test_fastapi_never_sends_a_second_response_start(
    api: respx.MockRouter, gate: None, caplog: pytest.LogCaptureFixture
) -> None:
    serve_session(api, execution("exec-1"))
    middleware = NoukaiTraceMiddleware(
        fastapi_app(), client=AsyncNoukai("nk_test", org="acme", project="main")
    )
    sent: list[dict[str, Any]] = []
    requested = False
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/stream",
        "raw_path": b"/stream",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"x-noukai-replay", SESSION_ID.encode())],
        "server": ("test", 80),
        "client": ("test", 1),
    }
    with caplog.at_level(logging.ERROR, logger="noukai_sdk.adapters"):
        await middleware(scope, receive, send)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1 and starts[0]["status"] == 200
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert body == b"abc"
    assert sent[-1].get("more_body", False) is False
    assert "unconsumed" in caplog.text


def test_fastapi_streams_pass_through(api: respx.MockRouter) -> None:
    with TestClient(fastapi_app()) as http:
        response = http.get("/stream")
    assert response.text == "abc"
    assert "x-noukai-session" in response.headers


def test_fastapi_excluded_paths_get_no_scope(api: respx.MockRouter) -> None:
    with TestClient(fastapi_app(exclude_paths=["/health"])) as http:
        response = http.get("/health")
    assert response.json() == {"session": None}
    assert "x-noukai-session" not in response.headers


def test_fastapi_replays_from_a_cassette_directory(tmp_path: Path, gate: None) -> None:
    (tmp_path / f"{SESSION_ID}.json").write_bytes(
        wire_bytes(session(execution("exec-1", steps=[step("s", "taped")])))
    )
    with respx.mock(assert_all_called=False) as router:
        with TestClient(fastapi_app(cassette_dir=tmp_path)) as http:
            response = http.get("/grade", headers={"X-Noukai-Replay": SESSION_ID})
        assert not router.calls
    assert response.json() == {"result": "taped"}


def test_fastapi_requires_the_async_client() -> None:
    with Noukai("nk_test") as sync_client, pytest.raises(TypeError, match="AsyncNoukai"):
        NoukaiTraceMiddleware(FastAPI(), client=sync_client)


# --- Flask -----------------------------------------------------------------------------------


def flask_app(**options: Any) -> Flask:
    noukai = Noukai("nk_test", org="acme", project="main")
    app = Flask(__name__)
    init_noukai_trace(app, client=noukai, **options)

    @app.get("/grade")
    def grade() -> Any:
        result = noukai.flow("grade-3").execute(message="hi")
        return {"result": result.result}, 200, {"X-Noukai-Session": "app-set"}

    @app.get("/health")
    def health() -> Any:
        return {"session": current_session_id()}

    @app.get("/boom")
    def boom() -> Any:
        raise RuntimeError("view failed")

    return app


def test_flask_capture_advertises_the_session_id_sent_upstream(api: respx.MockRouter) -> None:
    response = flask_app().test_client().get("/grade")
    assert response.status_code == 200
    assert response.headers.getlist("X-Noukai-Session") == sent_session_ids(api)


def test_flask_ignores_the_replay_header_without_the_gate(api: respx.MockRouter) -> None:
    fetch = serve_session(api, execution("exec-1"))
    response = flask_app().test_client().get("/grade", headers={"X-Noukai-Replay": SESSION_ID})
    assert response.json == {"result": "live"}
    assert not fetch.called


def test_flask_replays_with_the_gate(api: respx.MockRouter, gate: None) -> None:
    serve_session(api, execution("exec-1", steps=[step("s", "recorded")]))
    response = flask_app().test_client().get("/grade", headers={"X-Noukai-Replay": SESSION_ID})
    assert response.json == {"result": "recorded"}
    assert response.headers.getlist("X-Noukai-Session") == [SESSION_ID]
    assert sent_session_ids(api) == []


def test_flask_maps_fetch_errors_to_json(api: respx.MockRouter, gate: None) -> None:
    api.get(f"/seq/sessions/{SESSION_ID}").mock(return_value=httpx.Response(404))
    client = flask_app().test_client()
    response = client.get("/grade", headers={"X-Noukai-Replay": SESSION_ID})
    assert (response.status_code, response.json["error"]) == (404, "replay_session_not_found")
    assert response.headers["X-Noukai-Session"] == SESSION_ID
    invalid = client.get("/grade", headers={"X-Noukai-Replay": "nope"})
    assert (invalid.status_code, invalid.json["error"]) == (400, "replay_invalid_session")


def test_flask_maps_misses_in_views(api: respx.MockRouter, gate: None) -> None:
    serve_session(api, execution("exec-1", "another-flow"))
    response = flask_app().test_client().get("/grade", headers={"X-Noukai-Replay": SESSION_ID})
    assert (response.status_code, response.json["error"]) == (500, "replay_error")
    assert response.headers["X-Noukai-Session"] == SESSION_ID


def test_flask_leftovers_become_a_500_instead_of_escaping_teardown(
    api: respx.MockRouter, gate: None
) -> None:
    serve_session(api, execution("exec-1"))
    response = flask_app().test_client().get("/health", headers={"X-Noukai-Replay": SESSION_ID})
    assert (response.status_code, response.json["error"]) == (500, "replay_error")
    assert "unconsumed" in response.json["message"]


def test_flask_view_errors_still_close_the_scope(api: respx.MockRouter) -> None:
    app = flask_app()
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert current_session_id() is None


def test_flask_excluded_paths_get_no_scope(api: respx.MockRouter) -> None:
    response = flask_app(exclude_paths=["/health"]).test_client().get("/health")
    assert response.json == {"session": None}
    assert "X-Noukai-Session" not in response.headers


def test_flask_requires_the_sync_client() -> None:
    with pytest.raises(TypeError, match="Noukai"):
        init_noukai_trace(Flask(__name__), client=AsyncNoukai("nk_test"))


def test_missing_frameworks_are_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "starlette", None)
    monkeypatch.setitem(sys.modules, "flask", None)
    with pytest.raises(ImportError, match="pip install fastapi"):
        NoukaiTraceMiddleware(FastAPI(), client=AsyncNoukai("nk_test"))
    with pytest.raises(ImportError, match="pip install flask"):
        init_noukai_trace(Flask(__name__), client=Noukai("nk_test"))


async def test_non_http_scopes_pass_straight_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    middleware = NoukaiTraceMiddleware(app, client=AsyncNoukai("nk_test"))

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: Any) -> None:
        return None

    await middleware({"type": "lifespan"}, receive, send)
    assert seen == ["lifespan"]
