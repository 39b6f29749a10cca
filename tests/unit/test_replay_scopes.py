"""Capture and replay scopes through the client, with the API mocked by respx."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from test_replay_helpers import OTHER_SESSION_ID, SESSION_ID, execution, session, step, wire_bytes

from noukai_sdk import (
    AsyncNoukai,
    FlowExecutionError,
    Noukai,
    ReplayDisabledError,
    ReplayForbiddenError,
    ReplayInvalidSessionError,
    ReplayLeftoverError,
    ReplayMissError,
    ReplayNoSnapshotsError,
    ReplaySessionExpiredError,
    ReplaySessionNotFoundError,
)
from noukai_sdk._replay import (
    current_session_id,
    replay,
    replay_scope,
    replay_scope_sync,
    trace,
    trace_scope,
    trace_scope_sync,
)

BASE = "https://api.noukai.dev/api/v1"
SESSION_PATH = f"/seq/sessions/{SESSION_ID}"
EXECUTE_PATH = "/seq/acme/main/grade-3/execute"


@pytest.fixture(autouse=True)
def _gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", "true")


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def events() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def client(events: list[dict[str, Any]]) -> Iterator[Noukai]:
    with Noukai("nk_test", org="acme", project="main", log_handler=events.append) as noukai:
        yield noukai


@pytest.fixture
async def async_client(events: list[dict[str, Any]]) -> AsyncIterator[AsyncNoukai]:
    async with AsyncNoukai(
        "nk_test", org="acme", project="main", log_handler=events.append
    ) as noukai:
        yield noukai


def serve_session(
    api: respx.MockRouter, *executions: Any, session_id: str = SESSION_ID
) -> respx.Route:
    body = wire_bytes(session(*executions, session_id=session_id))
    return api.get(f"/seq/sessions/{session_id}").mock(
        return_value=httpx.Response(200, content=body)
    )


def enter_and_leave(**arguments: Any) -> None:
    with trace_scope_sync(**arguments):
        pass


def test_both_vocabularies_are_the_same_objects() -> None:
    assert replay is trace
    assert replay_scope is trace_scope
    assert replay_scope_sync is trace_scope_sync


def test_replay_serves_execute_from_the_recording_without_calling_the_flow(
    api: respx.MockRouter, client: Noukai
) -> None:
    fetch = serve_session(api, execution("exec-1", steps=[step("s-1", {"grade": "A"})]))
    flow_route = api.post(EXECUTE_PATH)
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID) as scope:
        assert scope.mode == "replay"
        assert current_session_id() == SESSION_ID
        result = client.flow("grade-3").execute(message="ignored in replay")
    assert result.result == {"grade": "A"}
    assert result.session_id == SESSION_ID
    assert fetch.call_count == 1
    assert not flow_route.called
    assert current_session_id() is None


def test_replay_without_the_gate_raises_before_any_request(
    api: respx.MockRouter, client: Noukai, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", "y")
    fetch = serve_session(api, execution("exec-1"))
    with pytest.raises(ReplayDisabledError, match="NOUKAI_REPLAY_ENABLED"):
        enter_and_leave(client=client, replay_session_id=SESSION_ID)
    assert not fetch.called


@pytest.mark.parametrize("value", ["1", "TRUE", "Yes", "on"])
def test_gate_values(
    value: str, api: respx.MockRouter, client: Noukai, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", value)
    serve_session(api, execution("exec-1"))
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID) as scope:
        client.flow("grade-3").execute()
    assert scope.mode == "replay"


def test_a_non_uuid_session_id_is_rejected_without_a_request(
    api: respx.MockRouter, client: Noukai
) -> None:
    with pytest.raises(ReplayInvalidSessionError, match="expected a UUID") as info:
        enter_and_leave(client=client, replay_session_id="../jobs")
    assert info.value.status_code == 400
    assert not api.calls


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, ReplayInvalidSessionError),
        (403, ReplayForbiddenError),
        (404, ReplaySessionNotFoundError),
        (410, ReplaySessionExpiredError),
    ],
)
def test_fetch_errors_become_replay_errors_keeping_code_and_request_id(
    status: int, error_class: type[Exception], api: respx.MockRouter, client: Noukai
) -> None:
    body = {"detail": {"code": "SESSION_PROBLEM", "message": "no way"}}
    api.get(SESSION_PATH).mock(
        return_value=httpx.Response(status, json=body, headers={"X-Request-ID": "req-7"})
    )
    with pytest.raises(error_class) as info:
        enter_and_leave(client=client, replay_session_id=SESSION_ID)
    error = info.value
    assert getattr(error, "status_code", None) == status
    assert getattr(error, "code", None) == "SESSION_PROBLEM"
    assert getattr(error, "request_id", None) == "req-7"
    assert SESSION_ID in str(error)


def test_the_session_fetch_is_retried_as_a_get(api: respx.MockRouter, client: Noukai) -> None:
    body = wire_bytes(session(execution("exec-1")))
    route = api.get(SESSION_PATH).mock(
        side_effect=[httpx.Response(503), httpx.Response(200, content=body)]
    )
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        client.flow("grade-3").execute()
    assert route.call_count == 2


def test_a_malformed_session_body_is_a_typed_error(api: respx.MockRouter, client: Noukai) -> None:
    api.get(SESSION_PATH).mock(return_value=httpx.Response(200, json={"executions": "nope"}))
    with pytest.raises(ReplayInvalidSessionError) as info:
        enter_and_leave(client=client, replay_session_id=SESSION_ID)
    assert type(info.value) is ReplayInvalidSessionError  # the documented class, not a subclass
    assert info.value.raw_body == b'{"executions":"nope"}'
    assert "not a valid session" in str(info.value)


def test_sessions_without_snapshots_are_refused(api: respx.MockRouter, client: Noukai) -> None:
    serve_session(api, execution("meta", snapshots=False, capture_mode="metadata_only"))
    with pytest.raises(ReplayNoSnapshotsError):
        enter_and_leave(client=client, replay_session_id=SESSION_ID)


def test_fetched_sessions_are_cached_per_client(api: respx.MockRouter, client: Noukai) -> None:
    fetch = serve_session(api, execution("exec-1"))
    for _ in range(3):
        with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
            client.flow("grade-3").execute()
    assert fetch.call_count == 1


def test_unconsumed_recordings_raise_at_a_clean_exit_only(
    api: respx.MockRouter, client: Noukai
) -> None:
    serve_session(api, execution("exec-1"), execution("exec-2"), execution("job", trigger="job"))
    leftover = pytest.raises(ReplayLeftoverError, match=r"1 unconsumed.*\['exec-2'\]")
    with leftover, trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        client.flow("grade-3").execute()
    with pytest.raises(KeyError), trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        raise KeyError("body failed")


def test_a_miss_raises(api: respx.MockRouter, client: Noukai) -> None:
    serve_session(api, execution("exec-1", "other-flow"))
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        with pytest.raises(ReplayMissError, match="slug 'grade-3'"):
            client.flow("grade-3").execute()
        client.flow("other-flow").execute()


def test_a_failed_recording_replays_as_a_failure(api: respx.MockRouter, client: Noukai) -> None:
    serve_session(
        api,
        execution(
            "exec-f",
            status="failed",
            error_at_step="s-1",
            steps=[step("s-1", error={"code": "BOOM", "message": "model failed"})],
        ),
    )
    with (
        trace_scope_sync(client=client, replay_session_id=SESSION_ID),
        pytest.raises(FlowExecutionError, match="model failed") as info,
    ):
        client.flow("grade-3").execute()
    assert info.value.execution_id == "exec-f"


def test_scope_log_events_come_in_pairs(
    api: respx.MockRouter, client: Noukai, events: list[dict[str, Any]]
) -> None:
    serve_session(api, execution("exec-1"))
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        client.flow("grade-3").execute()
    with trace_scope_sync(client=client) as capture:
        pass
    scope_events = [e for e in events if e["phase"].startswith("scope_")]
    assert scope_events == [
        {"phase": "scope_open", "mode": "replay", "session_id": SESSION_ID},
        {"phase": "scope_close", "mode": "replay", "session_id": SESSION_ID},
        {"phase": "scope_open", "mode": "capture", "session_id": capture.session_id},
        {"phase": "scope_close", "mode": "capture", "session_id": capture.session_id},
    ]


def test_failed_entry_logs_neither_open_nor_close(
    api: respx.MockRouter, client: Noukai, events: list[dict[str, Any]]
) -> None:
    api.get(SESSION_PATH).mock(return_value=httpx.Response(404))
    with pytest.raises(ReplaySessionNotFoundError):
        enter_and_leave(client=client, replay_session_id=SESSION_ID)
    assert not [e for e in events if e["phase"].startswith("scope_")]


def test_capture_sends_the_scope_id_and_per_call_ids_win(
    api: respx.MockRouter, events: list[dict[str, Any]]
) -> None:
    route = api.post(EXECUTE_PATH).mock(
        return_value=httpx.Response(
            200, json={"status": "completed", "result": 1, "flowId": "f", "blockCount": 1}
        )
    )
    with Noukai("nk_test", org="acme", project="main", session_id="client-default") as noukai:
        with trace_scope_sync(client=noukai) as scope:
            assert scope.mode == "capture"
            first = noukai.flow("grade-3").execute()
            second = noukai.flow("grade-3").execute(session_id="per-call")
        outside = noukai.flow("grade-3").execute()
    sent = [call.request.headers.get("x-session-id") for call in route.calls]
    assert sent == [scope.session_id, "per-call", "client-default"]
    assert first.session_id == scope.session_id
    assert second.session_id == "per-call"
    assert outside.session_id == "client-default"
    assert len(scope.session_id or "") == 36


def test_normal_scope_has_no_session_id() -> None:
    with trace_scope_sync(capture=False) as scope:
        assert scope.mode == "normal"
        assert current_session_id() is None


def test_explicit_session_id_does_one_cached_positional_fetch(
    api: respx.MockRouter, client: Noukai
) -> None:
    serve_session(api, execution("scope-1"), execution("shared"))
    other = serve_session(
        api,
        execution("other-1"),
        execution("shared"),
        session_id=OTHER_SESSION_ID,
    )
    flow = client.flow("grade-3")
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        first = flow.execute(session_id=OTHER_SESSION_ID)
        second = flow.execute(session_id=OTHER_SESSION_ID)
        own = flow.execute()
    assert (first.execution_id, second.execution_id, own.execution_id) == (
        "other-1",
        "shared",
        "scope-1",
    )
    assert first.session_id == OTHER_SESSION_ID
    assert own.session_id == SESSION_ID
    assert other.call_count == 1


def test_execute_async_in_replay_returns_a_job_serving_the_recording(
    api: respx.MockRouter, client: Noukai
) -> None:
    serve_session(api, execution("job-1", trigger="job", steps=[step("s-1", "queued result")]))
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        job = client.flow("grade-3").execute_async(message="x")
        status = job.wait()
    assert status.status == "completed"
    assert status.result == "queued result"
    assert job.execution_id == "job-1"
    assert not [call for call in api.calls if "jobs" in call.request.url.path]


def test_cassette_files_replay_without_any_network(tmp_path: Path, client: Noukai) -> None:
    cassette = tmp_path / "session.json"
    cassette.write_bytes(wire_bytes(session(execution("exec-1", steps=[step("s", "taped")]))))
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        with trace_scope_sync(client=client, cassette=cassette):
            assert client.flow("grade-3").execute().result == "taped"
        assert not router.calls


def test_cassettes_need_no_gate_and_no_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOUKAI_REPLAY_ENABLED")
    cassette = tmp_path / "session.json"
    cassette.write_bytes(wire_bytes(session(execution("exec-1"))))
    with pytest.raises(ReplayLeftoverError), trace_scope_sync(cassette=cassette) as scope:
        assert scope.session_id == SESSION_ID


def test_a_missing_cassette_is_a_not_found_replay_error(tmp_path: Path) -> None:
    with pytest.raises(ReplaySessionNotFoundError, match="does not exist"):
        enter_and_leave(cassette=tmp_path / "absent.json")


def test_record_to_writes_the_captured_session_at_exit(
    api: respx.MockRouter, client: Noukai, tmp_path: Path
) -> None:
    target = tmp_path / "cassettes" / "captured.json"
    api.post(EXECUTE_PATH).mock(
        return_value=httpx.Response(
            200, json={"status": "completed", "result": 1, "flowId": "f", "blockCount": 1}
        )
    )
    captured: dict[str, str] = {}

    def recorded(request: httpx.Request) -> httpx.Response:
        captured["id"] = request.url.path.rsplit("/", 1)[-1]
        body = wire_bytes(session(execution("exec-1"), session_id=captured["id"]))
        return httpx.Response(200, content=body)

    api.get(url__regex=r"/seq/sessions/.*").mock(side_effect=recorded)
    with trace_scope_sync(client=client, record_to=target) as scope:
        client.flow("grade-3").execute()
    assert captured["id"] == scope.session_id
    assert json.loads(target.read_text())["sessionId"] == scope.session_id
    with trace_scope_sync(cassette=target):
        assert client.flow("grade-3").execute().result == {"ok": "exec-1"}


# --- the decorator --------------------------------------------------------------------------


def test_trace_opens_a_capture_scope_per_call() -> None:
    @trace
    def handler() -> str | None:
        return current_session_id()

    first, second = handler(), handler()
    assert first and second and first != second
    assert current_session_id() is None


def test_trace_joins_an_active_scope(api: respx.MockRouter, client: Noukai) -> None:
    serve_session(api, execution("exec-1"))

    @trace
    def handler() -> Any:
        return client.flow("grade-3").execute().result

    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        assert handler() == {"ok": "exec-1"}


def test_trace_covers_the_whole_iteration_of_a_generator() -> None:
    @trace
    def numbers() -> Iterator[str | None]:
        yield current_session_id()
        yield current_session_id()

    iterator = numbers()
    first = next(iterator)
    assert current_session_id() is None, "the scope must not leak to the consumer"
    second = next(iterator)
    assert first is not None and first == second


async def test_trace_on_coroutines_and_async_generators() -> None:
    @trace
    async def handler() -> str | None:
        await asyncio.sleep(0)
        return current_session_id()

    @trace
    async def stream() -> AsyncIterator[str | None]:
        yield current_session_id()
        await asyncio.sleep(0)
        yield current_session_id()

    assert await handler() is not None
    seen = [value async for value in stream()]
    assert seen[0] is not None and seen[0] == seen[1]
    assert current_session_id() is None


async def test_async_scope_replays_with_the_async_client(
    api: respx.MockRouter, async_client: AsyncNoukai
) -> None:
    serve_session(api, execution("exec-1"), execution("exec-2"))
    async with trace_scope(client=async_client, replay_session_id=SESSION_ID):
        flow = async_client.flow("grade-3")

        async def in_task() -> Any:
            return (await flow.execute()).execution_id

        first = await asyncio.create_task(in_task())
        second = (await flow.execute()).execution_id
    assert (first, second) == ("exec-1", "exec-2")


async def test_async_scope_with_a_sync_client_explains_the_mistake(
    api: respx.MockRouter, client: Noukai
) -> None:
    with pytest.raises(TypeError, match="sync Noukai client"):
        async with trace_scope(client=client, replay_session_id=SESSION_ID):
            pass


# --- steps() / events() in replay -----------------------------------------------------------


def test_events_and_steps_replay_without_calling_the_step_endpoint(
    api: respx.MockRouter, client: Noukai
) -> None:
    from noukai_sdk import FlowCompleted, RunStarted, StepCompleted

    serve_session(
        api,
        execution("run-1", trigger="step", steps=[step("a", 1), step("b", 2)]),
        execution("run-2", trigger="step", steps=[step("a", 10), step("b", 20)]),
    )
    step_route = api.post("/seq/acme/main/grade-3/step")
    flow = client.flow("grade-3")
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        events = list(flow.events(message="x"))
        steps = list(flow.steps(message="x"))
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], FlowCompleted)
    assert all(isinstance(event, StepCompleted) for event in steps)
    assert [event.output for event in steps] == [10, 20]
    assert [event.step_index for event in steps] == [0, 1]
    assert not step_route.called


def test_steps_raise_on_a_recorded_failure_and_events_end_with_it(
    api: respx.MockRouter, client: Noukai
) -> None:
    from noukai_sdk import StepFailed

    failed = [step("a", 1), step("b", error={"code": "BOOM", "message": "broken"})]
    serve_session(
        api,
        execution("run-1", trigger="step", status="failed", error_at_step="b", steps=failed),
        execution("run-2", trigger="step", status="failed", error_at_step="b", steps=failed),
    )
    flow = client.flow("grade-3")
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        events = list(flow.events())
        outputs: list[Any] = []
        with pytest.raises(FlowExecutionError, match="broken"):
            outputs.extend(event.output for event in flow.steps())
    assert isinstance(events[-1], StepFailed)
    assert outputs == [1]


def test_sequential_iterations_do_not_warn_but_overlapping_ones_do(
    api: respx.MockRouter, client: Noukai
) -> None:
    serve_session(api, *[execution(f"run-{n}", trigger="step") for n in range(4)])
    flow = client.flow("grade-3")
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            list(flow.events())
            list(flow.events())
        first, second = iter(flow.events()), iter(flow.events())
        next(first)
        with pytest.warns(UserWarning, match="Concurrent same-slug"):
            next(second)
        list(first)
        list(second)


async def test_async_events_replay(api: respx.MockRouter, async_client: AsyncNoukai) -> None:
    serve_session(api, execution("run-1", trigger="step", steps=[step("a", "x")]))
    async with trace_scope(client=async_client, replay_session_id=SESSION_ID):
        outputs = [event.output async for event in async_client.flow("grade-3").steps()]
    assert outputs == ["x"]


def test_threads_with_a_copied_context_share_the_replay_scope(
    api: respx.MockRouter, client: Noukai
) -> None:
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    serve_session(api, execution("exec-1"), execution("exec-2"))
    flow = client.flow("grade-3")
    with (
        trace_scope_sync(client=client, replay_session_id=SESSION_ID),
        ThreadPoolExecutor(max_workers=2) as pool,
    ):
        futures = [
            pool.submit(contextvars.copy_context().run, lambda: flow.execute().execution_id)
            for _ in range(2)
        ]
        served = sorted(future.result() for future in futures)
    assert served == ["exec-1", "exec-2"]
