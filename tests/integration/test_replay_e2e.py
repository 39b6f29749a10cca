"""Capture and replay end to end: real dev-server process, real FastAPI and Flask apps.

Each app first runs live against the dev server (capture), then the same requests replay with
``X-Noukai-Replay`` — first with the server up, then with it stopped (served from the client's
session cache and from exported cassettes), and finally inside a user's pytest run through the
plugin's ``noukai_cassette`` marker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from flask import Flask
from starlette.testclient import TestClient

from noukai_sdk import (
    AsyncNoukai,
    FlowExecutionError,
    Noukai,
    StepCompleted,
    StepFailed,
    trace_scope_sync,
)
from noukai_sdk._replay import export_session
from noukai_sdk.adapters.fastapi import NoukaiTraceMiddleware
from noukai_sdk.adapters.flask import init_noukai_trace
from noukai_sdk.devserver.process import DevServerProcess

pytest_plugins = ["pytester"]
FLOW = "demo/examples/two-step"


@pytest.fixture
def own_server() -> Iterator[DevServerProcess]:
    """A dev server of this test only, so it can be stopped halfway."""
    with DevServerProcess(latency_ms=0) as server:
        yield server


@pytest.fixture
def replay_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", "1")


def make_fastapi_app(server: DevServerProcess, **options: Any) -> FastAPI:
    noukai = AsyncNoukai(server.api_key, env="dev", dev_port=server.port)
    app = FastAPI()
    app.add_middleware(NoukaiTraceMiddleware, client=noukai, exclude_paths=["/health"], **options)

    @app.get("/draft")
    async def draft(text: str) -> dict[str, Any]:
        result = await noukai.flow(FLOW).execute(message=text)
        steps = [event.output async for event in noukai.flow(FLOW).steps(message=text)]
        return {"result": result.result, "steps": steps, "session": result.session_id}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def make_flask_app(server: DevServerProcess, **options: Any) -> Flask:
    noukai = Noukai(server.api_key, env="dev", dev_port=server.port)
    app = Flask(__name__)
    init_noukai_trace(app, client=noukai, exclude_paths=["/health"], **options)

    @app.get("/draft")
    def draft() -> dict[str, Any]:
        from flask import request

        text = request.args["text"]
        result = noukai.flow(FLOW).execute(message=text)
        steps = [event.output for event in noukai.flow(FLOW).steps(message=text)]
        return {"result": result.result, "steps": steps, "session": result.session_id}

    return app


def test_fastapi_capture_then_replay_with_and_without_the_server(
    own_server: DevServerProcess, replay_gate: None, tmp_path: Path
) -> None:
    app = make_fastapi_app(own_server)
    with TestClient(app) as http:
        live = http.get("/draft", params={"text": "hello there"})
        assert live.status_code == 200
        session_id = live.headers["x-noukai-session"]
        assert live.json()["session"] == session_id
        assert "x-noukai-session" not in http.get("/health").headers

        replayed = http.get(
            "/draft", params={"text": "ignored"}, headers={"X-Noukai-Replay": session_id}
        )
        assert replayed.status_code == 200, replayed.text
        assert replayed.json() == live.json()
        assert replayed.headers.get_list("x-noukai-session") == [session_id]

        with Noukai(own_server.api_key, env="dev", dev_port=own_server.port) as exporter:
            export_session(exporter, session_id, tmp_path / f"{session_id}.json")
        own_server.stop()

        from_cache = http.get(
            "/draft", params={"text": "x"}, headers={"X-Noukai-Replay": session_id}
        )
        assert from_cache.json() == live.json()

    with TestClient(make_fastapi_app(own_server, cassette_dir=tmp_path)) as http:
        from_cassette = http.get(
            "/draft", params={"text": "x"}, headers={"X-Noukai-Replay": session_id}
        )
        assert from_cassette.json() == live.json()
        missing = http.get(
            "/draft",
            params={"text": "x"},
            headers={"X-Noukai-Replay": "33333333-3333-4333-8333-333333333333"},
        )
        assert (missing.status_code, missing.json()["error"]) == (404, "replay_session_not_found")


def test_flask_capture_then_replay_and_the_pytest_plugin(
    own_server: DevServerProcess,
    replay_gate: None,
    tmp_path: Path,
    pytester: pytest.Pytester,
) -> None:
    http = make_flask_app(own_server).test_client()
    live = http.get("/draft", query_string={"text": "one two three"})
    assert live.status_code == 200
    session_id = live.headers["X-Noukai-Session"]
    assert live.json is not None and live.json["session"] == session_id

    replayed = http.get(
        "/draft", query_string={"text": "x"}, headers={"X-Noukai-Replay": session_id}
    )
    assert replayed.status_code == 200, replayed.text
    assert replayed.json == live.json

    cassette = pytester.path / "cassettes" / "two-step.json"
    with Noukai(own_server.api_key, env="dev", dev_port=own_server.port) as exporter:
        export_session(exporter, session_id, cassette)
        export_session(exporter, session_id, tmp_path / f"{session_id}.json")
    own_server.stop()

    cached = http.get("/draft", query_string={"text": "x"}, headers={"X-Noukai-Replay": session_id})
    assert cached.json == live.json

    offline = make_flask_app(own_server, cassette_dir=tmp_path).test_client()
    again = offline.get(
        "/draft", query_string={"text": "x"}, headers={"X-Noukai-Replay": session_id}
    )
    assert again.json == live.json

    expected = json.dumps(live.json["result"])
    pytester.makepyfile(
        test_user_code=f"""
        import json
        import pytest
        from noukai_sdk import Noukai

        @pytest.mark.noukai_cassette("cassettes/two-step.json")
        def test_user_code_replays_offline():
            client = Noukai("nk_dev_local", env="dev", dev_port={own_server.port})
            flow = client.flow("{FLOW}")
            assert flow.execute(message="anything").result == json.loads({expected!r})
            assert len(list(flow.steps(message="anything"))) == 2
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_failed_runs_replay_as_failures(own_server: DevServerProcess, replay_gate: None) -> None:
    with Noukai(own_server.api_key, env="dev", dev_port=own_server.port) as client:
        flow = client.flow("demo/examples/failing")
        with trace_scope_sync(client=client) as capture:
            live = flow.execute(message="go")  # a live failed run is a result (status "failed")
            live_events = list(flow.events(message="go"))
        with trace_scope_sync(client=client, replay_session_id=capture.session_id):
            with pytest.raises(FlowExecutionError) as replayed_error:
                flow.execute(message="go")
            replayed_events = list(flow.events(message="go"))
    assert live.status == "failed"
    failed = live_events[-1]
    assert isinstance(failed, StepFailed)
    assert replayed_error.value.code == "FLOW_EXECUTION_ERROR"
    assert "always fails" in str(replayed_error.value)
    assert isinstance(live_events[-1], StepFailed) and isinstance(replayed_events[-1], StepFailed)
    assert [type(e) for e in replayed_events if isinstance(e, StepCompleted)] == [
        type(e) for e in live_events if isinstance(e, StepCompleted)
    ]


def test_record_to_writes_a_cassette_at_scope_exit(
    own_server: DevServerProcess, tmp_path: Path
) -> None:
    target = tmp_path / "recorded.json"
    with Noukai(own_server.api_key, env="dev", dev_port=own_server.port) as client:
        flow = client.flow(FLOW)
        with trace_scope_sync(client=client, record_to=target):
            live = flow.execute(message="tape me")
        own_server.stop()
        with trace_scope_sync(cassette=target):
            assert flow.execute(message="offline").result == live.result


def test_plugin_dev_server_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user_code="""
        def test_sync(noukai_client):
            result = noukai_client.flow("demo/examples/hello-world").execute("hi")
            assert result.status == "completed"

        async def test_async(noukai_async_client, noukai_dev_server):
            result = await noukai_async_client.flow("demo/examples/hello-world").execute("hi")
            assert result.status == "completed"
            assert noukai_dev_server.port > 0
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "asyncio_mode=auto")
    result.assert_outcomes(passed=2)
