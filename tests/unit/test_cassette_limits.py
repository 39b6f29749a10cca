"""Cassette files that cannot be replayed fail clearly: a directory, a file above the size cap, a
session id that is not a UUID; the cap is configurable."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from noukai_sdk import ReplayInvalidSessionError, ReplaySessionNotFoundError, trace_scope_sync
from noukai_sdk.cassettes import load_cassette


def cassette(path: Path, session_id: str, *, padding: int = 0) -> Path:
    execution = {
        "executionId": "exec-1",
        "slug": "grade-3" + "x" * padding,
        "status": "completed",
        "snapshotsAvailable": True,
    }
    path.write_text(json.dumps({"sessionId": session_id, "executions": [execution]}))
    return path


def test_a_directory_given_as_cassette_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReplayInvalidSessionError, match="is a directory"):
        load_cassette(tmp_path)
    with (
        pytest.raises(ReplayInvalidSessionError, match="is a directory"),
        trace_scope_sync(cassette=tmp_path),
    ):
        pass


def test_a_missing_cassette_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ReplaySessionNotFoundError):
        load_cassette(tmp_path / "nope.json")


def test_a_cassette_above_the_cap_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = cassette(tmp_path / "big.json", str(uuid.uuid4()), padding=5000)
    with pytest.raises(ReplayInvalidSessionError, match="above the 1,000-byte cap"):
        load_cassette(path, max_bytes=1000)


def test_the_cap_is_configurable_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = cassette(tmp_path / "big.json", str(uuid.uuid4()), padding=5000)
    monkeypatch.setenv("NOUKAI_CASSETTE_MAX_BYTES", "2000")
    with pytest.raises(ReplayInvalidSessionError, match="NOUKAI_CASSETTE_MAX_BYTES"):
        load_cassette(path)
    monkeypatch.setenv("NOUKAI_CASSETTE_MAX_BYTES", "10000000")
    assert load_cassette(path).executions[0].execution_id == "exec-1"
    monkeypatch.setenv("NOUKAI_CASSETTE_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="positive number of bytes"):
        load_cassette(path)


def test_a_cassette_whose_session_id_is_not_a_uuid_is_refused(tmp_path: Path) -> None:
    path = cassette(tmp_path / "odd.json", "my-session")
    with pytest.raises(ReplayInvalidSessionError, match="not a UUID"):
        load_cassette(path)
