"""Replay from the outside: errors and their messages, the gate,
matching, reconstruction and scope log events, through the public API with the API mocked."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from test_replay_helpers import OTHER_SESSION_ID, SESSION_ID, execution, session, step, wire_bytes

import noukai_sdk
from noukai_sdk import (
    AsyncNoukai,
    AuthenticationError,
    ExecuteResult,
    FlowCompleted,
    FlowExecutionError,
    Noukai,
    ReplayDisabledError,
    ReplayForbiddenError,
    ReplayInvalidSessionError,
    ReplayLeftoverError,
    ReplayMissError,
    ReplaySessionExpiredError,
    ReplaySessionNotFoundError,
    RunStarted,
    StepCompleted,
    StepStarted,
    trace_scope,
    trace_scope_sync,
)
from noukai_sdk_generated.models import ErrorBody

BASE = "https://api.noukai.dev/api/v1"
SESSION_PATH = f"/seq/sessions/{SESSION_ID}"


@pytest.fixture(autouse=True)
def _gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", "1")


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def logged() -> list[dict[str, Any]]:
    return []


@pytest.fixture
def client(logged: list[dict[str, Any]]) -> Iterator[Noukai]:
    with Noukai(
        "nk_test", org="acme", project="main", max_retries=0, log_handler=logged.append
    ) as c:
        yield c


def error_body(code: str, message: str) -> bytes:
    body = ErrorBody.model_validate({"detail": {"code": code, "message": message}})
    return json.dumps(body.to_wire()).encode()


def serve(api: respx.MockRouter, *executions: Any) -> respx.Route:
    return api.get(SESSION_PATH).mock(
        return_value=httpx.Response(200, content=wire_bytes(session(*executions)))
    )


# --- session ids and fetch errors --------------------------------------------------------


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "11111111-1111-4111-8111-11111111111", "../x"])
def test_a_non_uuid_replay_id_is_rejected_with_status_400_before_any_request(
    api: respx.MockRouter, client: Noukai, bad_id: str
) -> None:
    with (
        pytest.raises(ReplayInvalidSessionError) as info,
        trace_scope_sync(client=client, replay_session_id=bad_id),
    ):
        pass
    assert info.value.status_code == 400
    assert str(info.value).startswith(
        f"Invalid session id '{bad_id}': Invalid session id format (expected UUID): '{bad_id}'"
    )
    assert api.calls.call_count == 0


async def test_the_async_scope_validates_the_id_the_same_way(api: respx.MockRouter) -> None:
    async with AsyncNoukai("nk_test", org="acme", project="main") as client:
        with pytest.raises(ReplayInvalidSessionError, match="expected UUID"):
            async with trace_scope(client=client, replay_session_id="nope"):
                pass
    assert api.calls.call_count == 0


def test_an_upper_case_uuid_is_a_valid_session_id(api: respx.MockRouter, client: Noukai) -> None:
    upper = SESSION_ID.upper()
    api.get(f"/seq/sessions/{upper}").mock(
        return_value=httpx.Response(200, content=wire_bytes(session()))
    )
    with trace_scope_sync(client=client, replay_session_id=upper) as scope:
        assert scope.mode == "replay"


@pytest.mark.parametrize(
    ("status", "error_class", "message"),
    [
        (400, ReplayInvalidSessionError, f"Invalid session id '{SESSION_ID}': bad id given"),
        (403, ReplayForbiddenError, f"Replay forbidden for session '{SESSION_ID}': bad id given"),
        (404, ReplaySessionNotFoundError, f"No session found for id '{SESSION_ID}'"),
        (410, ReplaySessionExpiredError, f"Session '{SESSION_ID}' has expired"),
    ],
)
def test_fetch_statuses_become_replay_errors_with_the_documented_messages(
    api: respx.MockRouter,
    client: Noukai,
    status: int,
    error_class: type[Exception],
    message: str,
) -> None:
    api.get(SESSION_PATH).mock(
        return_value=httpx.Response(status, content=error_body("SOME_CODE", "bad id given"))
    )
    with (
        pytest.raises(error_class) as info,
        trace_scope_sync(client=client, replay_session_id=SESSION_ID),
    ):
        pass
    assert str(info.value) == message
    assert getattr(info.value, "status_code", None) == status


def test_other_fetch_failures_surface_unchanged(api: respx.MockRouter, client: Noukai) -> None:
    api.get(SESSION_PATH).mock(
        return_value=httpx.Response(401, content=error_body("UNAUTHORIZED", "bad key"))
    )
    with (
        pytest.raises(AuthenticationError),
        trace_scope_sync(client=client, replay_session_id=SESSION_ID),
    ):
        pass


# --- the gate ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", "ON", "on"])
def test_the_gate_accepts_its_true_values_in_any_case(
    api: respx.MockRouter, client: Noukai, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", value)
    serve(api)
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID) as scope:
        assert scope.mode == "replay"
        assert scope.session_id == SESSION_ID


@pytest.mark.parametrize("value", ["y", "enabled", "0", "false", ""])
def test_a_replay_id_without_the_gate_raises_replay_disabled(
    api: respx.MockRouter, client: Noukai, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NOUKAI_REPLAY_ENABLED", value)
    with (
        pytest.raises(ReplayDisabledError, match="NOUKAI_REPLAY_ENABLED"),
        trace_scope_sync(client=client, replay_session_id=SESSION_ID),
    ):
        pass
    assert api.calls.call_count == 0


def test_without_a_replay_id_a_scope_captures_or_stays_normal(client: Noukai) -> None:
    with trace_scope_sync(client=client) as scope:
        assert scope.mode == "capture"
        assert noukai_sdk.current_session_id() == scope.session_id
    with trace_scope_sync(client=client, capture=False) as scope:
        assert scope.mode == "normal"
        assert noukai_sdk.current_session_id() is None
    assert noukai_sdk.current_session_id() is None


# --- matching and leftovers ----------------------------------------------------------------


def test_a_miss_names_the_call_number_slug_and_counts(
    api: respx.MockRouter, client: Noukai
) -> None:
    serve(api, execution("exec-1"), execution("exec-2", "other"))
    flow = client.flow("grade-3")
    with (
        pytest.raises(ReplayMissError) as info,
        trace_scope_sync(client=client, replay_session_id=SESSION_ID),
    ):
        flow.execute("a")
        client.flow("other").execute("b")
        flow.execute("c")
    assert str(info.value).startswith(
        "Replay miss: user code made call #2 to slug 'grade-3' (execute), but the session has "
        "only 1 recorded execute execution(s) for that slug out of 2 total. Either the user "
        "code has diverged from the recording, or the recording is incomplete."
    )


def test_unconsumed_recordings_raise_a_sorted_leftover_error_at_a_clean_exit(
    api: respx.MockRouter, client: Noukai
) -> None:
    serve(api, execution("exec-c"), execution("exec-b"), execution("exec-a"))
    with (
        pytest.raises(ReplayLeftoverError) as info,
        trace_scope_sync(client=client, replay_session_id=SESSION_ID),
    ):
        client.flow("grade-3").execute("x")
    assert str(info.value).startswith(
        f"Session '{SESSION_ID}' has 2 unconsumed executions at scope exit: ['exec-a', 'exec-b']"
    )


def test_no_leftover_check_when_the_body_raised(api: respx.MockRouter, client: Noukai) -> None:
    serve(api, execution("exec-1"))
    with (
        pytest.raises(KeyError),
        trace_scope_sync(client=client, replay_session_id=SESSION_ID),
    ):
        raise KeyError("body failed")


def test_matching_ignores_org_and_project_and_makes_no_flow_request(
    api: respx.MockRouter, client: Noukai
) -> None:
    session_route = serve(api, execution("exec-1"))
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        result = client.flow("elsewhere/proj/grade-3").execute("x", version="production")
    assert result.execution_id == "exec-1"
    assert result.session_id == SESSION_ID
    assert session_route.call_count == 1
    assert api.calls.call_count == 1


# --- reconstruction ----------------------------------------------------------------


def test_replayed_outputs_drop_the_rendered_prompt_sidecar_at_the_top_level_only(
    api: respx.MockRouter, client: Noukai
) -> None:
    output = {"y": 2, "__rendered_prompt__": "Q", "nested": {"__rendered_prompt__": "R"}}
    expected = {"y": 2, "nested": {"__rendered_prompt__": "R"}}
    serve(
        api,
        execution("exec-1", steps=[step("s-1", output)]),
        execution("exec-2", trigger="step", steps=[step("s-1", output)]),
    )
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        flow = client.flow("grade-3")
        replayed = flow.execute("x")
        assert isinstance(replayed, ExecuteResult)
        assert replayed.result == expected
        events = list(flow.events(message="x"))
    completed = [event for event in events if isinstance(event, StepCompleted)]
    assert [event.output for event in completed] == [expected]
    assert isinstance(events[-1], FlowCompleted)
    assert events[-1].result == expected


def test_events_in_replay_reconstruct_the_run_and_steps_yields_only_completions(
    api: respx.MockRouter, client: Noukai
) -> None:
    steps = [step("s-1", {"n": 1}), step("s-2", {"n": 2})]
    serve(
        api,
        execution("exec-1", trigger="step", steps=steps),
        execution("exec-2", trigger="step", steps=steps),
    )
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        flow = client.flow("grade-3")
        events = list(flow.events(message="x"))
        only_steps = list(flow.steps(message="x"))
    assert [event.type for event in events] == [
        "run_started",
        "step_started",
        "step_completed",
        "step_started",
        "step_completed",
        "flow_completed",
    ]
    assert isinstance(events[0], RunStarted)
    assert events[0].execution_id == "exec-1"
    assert [e.step_index for e in events if isinstance(e, StepStarted | StepCompleted)] == [
        0,
        0,
        1,
        1,
    ]
    assert all(isinstance(event, StepCompleted) for event in only_steps)
    assert [event.output for event in only_steps] == [{"n": 1}, {"n": 2}]


def test_a_recorded_failure_raises_on_execute_with_the_recorded_error(
    api: respx.MockRouter, client: Noukai
) -> None:
    failing = execution(
        "exec-1",
        steps=[step("s-1", {"ok": 1}), step("s-2", error={"code": "BOOM", "message": "it broke"})],
        status="failed",
        error_at_step="s-2",
    )
    serve(api, failing)
    with (
        pytest.raises(FlowExecutionError) as info,
        trace_scope_sync(client=client, replay_session_id=SESSION_ID),
    ):
        client.flow("grade-3").execute("x")
    assert info.value.message == "it broke"
    assert info.value.code == "BOOM"
    assert info.value.execution_id == "exec-1"


# --- scope log events ------------------------------------------------------------------------


def test_scopes_log_open_and_close_with_mode_and_session_id(
    api: respx.MockRouter, client: Noukai, logged: list[dict[str, Any]]
) -> None:
    serve(api, execution("exec-1"))
    with trace_scope_sync(client=client) as capture:
        pass
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        client.flow("grade-3").execute("x")
    scope_events = [event for event in logged if str(event["phase"]).startswith("scope_")]
    assert scope_events == [
        {"phase": "scope_open", "mode": "capture", "session_id": capture.session_id},
        {"phase": "scope_close", "mode": "capture", "session_id": capture.session_id},
        {"phase": "scope_open", "mode": "replay", "session_id": SESSION_ID},
        {"phase": "scope_close", "mode": "replay", "session_id": SESSION_ID},
    ]


def test_a_failed_replay_entry_logs_neither_open_nor_close(
    api: respx.MockRouter, client: Noukai, logged: list[dict[str, Any]]
) -> None:
    api.get(SESSION_PATH).mock(return_value=httpx.Response(404, content=error_body("NF", "no")))
    with (
        pytest.raises(ReplaySessionNotFoundError),
        trace_scope_sync(client=client, replay_session_id=SESSION_ID),
    ):
        pass
    assert not [event for event in logged if str(event["phase"]).startswith("scope_")]


def test_both_scope_vocabularies_are_the_same_objects() -> None:
    assert noukai_sdk.trace is noukai_sdk.replay
    assert noukai_sdk.trace_scope is noukai_sdk.replay_scope
    assert noukai_sdk.trace_scope_sync is noukai_sdk.replay_scope_sync


# --- the concurrency warning ----------------------------------------------


async def test_concurrent_async_calls_for_one_slug_warn_and_sequential_ones_do_not(
    api: respx.MockRouter,
) -> None:
    recordings = [execution(f"exec-{n}") for n in range(4)]
    serve(
        api, *recordings, execution("step-1", trigger="step"), execution("step-2", trigger="step")
    )
    async with (
        AsyncNoukai("nk_test", org="acme", project="main") as client,
        trace_scope(client=client, replay_session_id=SESSION_ID),
    ):
        flow = client.flow("grade-3")
        with warnings.catch_warnings(record=True) as sequential:
            warnings.simplefilter("always")
            await flow.execute("a")
            await flow.execute("b")
            assert [event async for event in flow.steps(message="c")]
            assert [event async for event in flow.steps(message="d")]
        assert [str(warning.message) for warning in sequential] == []
        with pytest.warns(UserWarning, match="Concurrent same-slug"):
            results = await asyncio.gather(flow.execute("e"), flow.execute("f"))
    assert [result.execution_id for result in results] == ["exec-2", "exec-3"]


def test_a_per_call_session_id_replays_from_that_session_and_names_it_on_a_miss(
    api: respx.MockRouter, client: Noukai
) -> None:
    serve(api, execution("exec-1"))
    other = session(execution("other-1"), session_id=OTHER_SESSION_ID)
    api.get(f"/seq/sessions/{OTHER_SESSION_ID}").mock(
        return_value=httpx.Response(200, content=wire_bytes(other))
    )
    flow = client.flow("grade-3")
    with trace_scope_sync(client=client, replay_session_id=SESSION_ID):
        result = flow.execute("x", session_id=OTHER_SESSION_ID)
        assert (result.execution_id, result.session_id) == ("other-1", OTHER_SESSION_ID)
        with pytest.raises(ReplayMissError) as info:
            flow.execute("y", session_id=OTHER_SESSION_ID)
        assert str(info.value).startswith(
            f"Replay miss (explicit session_id='{OTHER_SESSION_ID}'): user code made call #2 "
            "to slug 'grade-3' (execute)"
        )
        assert flow.execute("z").execution_id == "exec-1"
