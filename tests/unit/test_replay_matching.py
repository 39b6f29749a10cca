"""Matching calls to recordings: positional per (slug, trigger), flowId fallback, leftovers."""

from __future__ import annotations

import warnings

import pytest
from test_replay_helpers import execution, session

from noukai_sdk._core.errors import ReplayMissError, ReplayNoSnapshotsError
from noukai_sdk._replay._matching import SessionMatcher, check_snapshots


def matcher_for(*executions: object) -> SessionMatcher:
    recorded = session(*executions)  # type: ignore[arg-type]
    return SessionMatcher(recorded.session_id, recorded.executions)


def test_calls_take_recordings_in_order_per_slug_and_trigger() -> None:
    matcher = matcher_for(
        execution("a1", "a"),
        execution("b1", "b"),
        execution("a-step", "a", trigger="step"),
        execution("a2", "a"),
    )
    assert matcher.match("a", "execute").execution_id == "a1"
    assert matcher.match("a", "step").execution_id == "a-step"
    assert matcher.match("a", "execute").execution_id == "a2"
    assert matcher.match("b", "execute").execution_id == "b1"
    assert matcher.leftovers() == []


def test_a_miss_names_the_call_and_still_advances_the_position() -> None:
    matcher = matcher_for(execution("a1", "a"))
    matcher.match("a", "execute")
    with pytest.raises(ReplayMissError, match=r"call #2 to slug 'a' \(execute\).*only 1"):
        matcher.match("a", "execute")
    with pytest.raises(ReplayMissError, match="call #3"):
        matcher.match("a", "execute")


def test_slugs_are_case_sensitive_and_bare() -> None:
    matcher = matcher_for(execution("a1", "grade-3"))
    with pytest.raises(ReplayMissError):
        matcher.match("Grade-3", "execute")


def test_deleted_flow_recordings_match_through_their_flow_id() -> None:
    matcher = matcher_for(
        execution("first", "grade-3", flow_id="flow-9"),
        execution("after-delete", None, flow_id="flow-9"),
    )
    assert matcher.match("grade-3", "execute").execution_id == "first"
    assert matcher.match("grade-3", "execute").execution_id == "after-delete"


def test_a_caller_that_knows_the_flow_id_matches_an_orphaned_recording() -> None:
    matcher = matcher_for(execution("orphan", None, flow_id="flow-7"))
    assert matcher.match("renamed", "execute", flow_id="flow-7").execution_id == "orphan"


def test_unknown_slug_recordings_are_explained_in_the_miss_message() -> None:
    matcher = matcher_for(execution("orphan", None, flow_id="flow-7"))
    with pytest.raises(ReplayMissError, match="1 recorded execution"):
        matcher.match("grade-3", "execute")


def test_leftovers_count_only_unconsumed_execute_and_step_recordings() -> None:
    matcher = matcher_for(
        execution("used", "a"),
        execution("unused-b", "b"),
        execution("unused-step", "a", trigger="step"),
        execution("job", "a", trigger="job"),
        execution("legacy", "a", trigger=None),
        execution("orphan", None, flow_id="gone"),
    )
    matcher.match("a", "execute")
    assert matcher.leftovers() == ["unused-b", "unused-step"]


def test_job_recordings_are_served_to_jobs() -> None:
    matcher = matcher_for(execution("job-1", "a", trigger="job"))
    assert matcher.match("a", "job").execution_id == "job-1"
    with pytest.raises(ReplayMissError):
        matcher.match("a", "execute")


def test_consume_marks_a_recording_used_by_a_one_shot_fetch() -> None:
    matcher = matcher_for(execution("x", "a"))
    matcher.consume("x")
    assert matcher.leftovers() == []


def test_sequential_calls_do_not_warn_but_overlapping_ones_do() -> None:
    matcher = matcher_for(execution("a1", "a"), execution("a2", "a"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            matcher.call_started("a", "step")
            matcher.call_finished("a", "step")
    matcher.call_started("a", "step")
    with pytest.warns(
        UserWarning, match="Concurrent same-slug execute\\(\\)/step\\(\\) detected for 'a'"
    ):
        matcher.call_started("a", "step")


def test_sessions_without_snapshots_are_refused_with_the_capture_mode() -> None:
    recorded = session(execution("meta", "a", snapshots=False, capture_mode="metadata_only"))
    with pytest.raises(ReplayNoSnapshotsError, match=r"'meta'.*'metadata_only'.*'full'") as info:
        check_snapshots(recorded.session_id, recorded.executions)
    assert info.value.status_code == 409


def test_legacy_rows_without_snapshots_do_not_block_replay() -> None:
    recorded = session(
        execution("ok", "a"), execution("legacy", "a", trigger=None, snapshots=False)
    )
    check_snapshots(recorded.session_id, recorded.executions)
