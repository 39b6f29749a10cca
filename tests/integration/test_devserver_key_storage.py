"""API keys never reach the dev server's database file in clear: only their SHA-256 digests do."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import TEST_KEYS, DevServerProcess, write_server_files

SECRET_KEY = "nk_test_secret_5f1d0c9a7e"
OWN_KEYS = f"""\
keys:
  {SECRET_KEY}: {{projects: ["*"]}}
  {TEST_KEYS["tiny_budget"]}: {{credits_usd: "0.00003"}}
  {TEST_KEYS["other"]}: {{projects: ["*"]}}
"""
FRESH = {"parameters": {}, "iterationsUsed": 0, "accumulatedOutputs": {}, "trace": False}


def database_bytes(db: Path) -> bytes:
    """The database file and whatever SQLite keeps beside it (WAL, shared memory)."""
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    return b"".join(path.read_bytes() for path in files if path.exists())


@pytest.fixture
def keyed_server(tmp_path: Path) -> Iterator[DevServerProcess]:
    write_server_files(tmp_path)
    (tmp_path / "own-keys.yaml").write_text(OWN_KEYS)
    server = DevServerProcess(
        db=tmp_path / "dev.sqlite3",
        flow_dirs=(tmp_path / "flows",),
        keys_file=tmp_path / "own-keys.yaml",
        latency_ms=0,
        api_key=SECRET_KEY,
    )
    with server:
        yield server


def use_every_endpoint(server: DevServerProcess, session_id: str) -> str:
    headers = {**server.headers(), "X-Session-Id": session_id}
    with httpx.Client(base_url=server.base_url + "/", headers=headers, timeout=30) as http:
        run = http.post("seq/demo/examples/hello-world/execute", json={"message": "x", **FRESH})
        assert run.status_code == 200, run.text
        step = http.post("seq/demo/examples/two-step/step", json={"message": "y", "stepIndex": 0})
        assert step.status_code == 200
        job = http.post("seq/demo/examples/hello-world/jobs", json={"message": "z", **FRESH})
        assert job.status_code == 202
        assert http.get(f"seq/sessions/{session_id}").status_code == 200
        execution_id: str = run.json()["executionId"]
        return execution_id


def test_the_database_holds_key_digests_only(keyed_server: DevServerProcess) -> None:
    use_every_endpoint(keyed_server, str(uuid.uuid4()))
    tiny = keyed_server.headers(TEST_KEYS["tiny_budget"])
    with httpx.Client(base_url=keyed_server.base_url + "/", headers=tiny, timeout=30) as http:
        statuses = [
            http.post(
                "seq/demo/examples/hello-world/execute", json={"message": "spend " * 10}
            ).status_code
            for _ in range(3)
        ]
    assert statuses[-1] == 402, statuses
    assert keyed_server.stop() == 0
    assert keyed_server.db is not None
    stored = database_bytes(Path(keyed_server.db))
    for key in (SECRET_KEY, TEST_KEYS["tiny_budget"], "nk_dev_local"):
        assert key.encode() not in stored
    assert hashlib.sha256(SECRET_KEY.encode()).hexdigest().encode() in stored

    keyed_server.start()  # balances are found again by digest: the spent key stays spent
    with httpx.Client(base_url=keyed_server.base_url + "/", headers=tiny, timeout=30) as http:
        again = http.post("seq/demo/examples/hello-world/execute", json={"message": "again"})
    assert again.status_code == 402


def test_a_database_with_clear_keys_is_rewritten_with_digests(
    keyed_server: DevServerProcess,
) -> None:
    session_id = str(uuid.uuid4())
    execution_id = use_every_endpoint(keyed_server, session_id)
    assert keyed_server.stop() == 0
    assert keyed_server.db is not None
    db = Path(keyed_server.db)
    make_it_look_like_an_older_server_wrote_it(db, SECRET_KEY)
    assert SECRET_KEY.encode() in database_bytes(db)

    keyed_server.start()
    base = keyed_server.base_url + "/"
    with httpx.Client(base_url=base, headers=keyed_server.headers(), timeout=30) as http:
        trace = http.get(f"seq/demo/examples/hello-world/runs/{execution_id}/trace")
        assert trace.status_code == 200 and trace.json()["flowRun"]["status"] == "completed"
        assert http.get(f"seq/sessions/{session_id}").status_code == 200
        other = keyed_server.headers(TEST_KEYS["other"])
        assert http.get(f"seq/sessions/{session_id}", headers=other).status_code == 403
    assert keyed_server.stop() == 0
    assert SECRET_KEY.encode() not in database_bytes(db)


def make_it_look_like_an_older_server_wrote_it(db: Path, key: str) -> None:
    """Older dev servers kept ``credits(api_key, balance_usd)`` and ``"api_key"`` in run state."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE credits (api_key TEXT PRIMARY KEY, balance_usd TEXT)")
        connection.execute("INSERT INTO credits VALUES (?, '999')", (key,))
        connection.execute("DROP TABLE key_balances")
        for seq, text in connection.execute("SELECT seq, state FROM runs").fetchall():
            state = json.loads(text)
            assert state.pop("key_hash") == digest
            state["api_key"] = key
            connection.execute("UPDATE runs SET state = ? WHERE seq = ?", (json.dumps(state), seq))
    connection.close()
