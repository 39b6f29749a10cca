"""SQLite persistence: runs, step traces, events, the job queue and credit balances.

One connection, used only from the server's event-loop thread (every statement is short). A file
database runs in WAL mode so it survives restarts; ``:memory:`` is for throw-away servers. API keys
appear only as their SHA-256 digest; a database written by an older dev server, which kept them in
clear, is rewritten that way when it is opened.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from noukai_sdk.devserver._accounts import key_hash
from noukai_sdk.devserver._engine import Event, StepRecord
from noukai_sdk.devserver._runs import RunState, shallow_dict

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id TEXT UNIQUE NOT NULL,
    flow_key TEXT NOT NULL,
    session_id TEXT,
    state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_session ON runs (session_id, seq);
CREATE TABLE IF NOT EXISTS steps (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    loop_index INTEGER NOT NULL,
    record TEXT NOT NULL,
    UNIQUE (execution_id, step_id, attempt, loop_index)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_run ON events (execution_id, seq);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id TEXT UNIQUE NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS key_balances (
    key_hash TEXT PRIMARY KEY,
    balance_usd TEXT NOT NULL
);
"""
_NO_LOOP = -1


class Store:
    """Typed access to the dev server's tables."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._forget_clear_keys()

    def _forget_clear_keys(self) -> None:
        """Replace the clear API keys an older dev server stored (its ``credits`` table and the
        ``api_key`` of each run) by their digests, then rebuild the file so no old page keeps them."""
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        old_runs = self._db.execute(
            "SELECT seq, state FROM runs WHERE state LIKE '%\"api_key\":%'"
        ).fetchall()
        if "credits" not in tables and not old_runs:
            return
        with self._transaction():
            if "credits" in tables:
                balances = self._db.execute("SELECT api_key, balance_usd FROM credits").fetchall()
                self._db.executemany(
                    "INSERT OR REPLACE INTO key_balances (key_hash, balance_usd) VALUES (?, ?)",
                    [(key_hash(str(key)), str(balance)) for key, balance in balances],
                )
                self._db.execute("DROP TABLE credits")
            for seq, text in old_runs:
                state = json.loads(text)
                if "api_key" in state:
                    state["key_hash"] = key_hash(str(state.pop("api_key")))
                    self._db.execute(
                        "UPDATE runs SET state = ? WHERE seq = ?", (json.dumps(state), seq)
                    )
        self._db.execute("VACUUM")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self._db.close()

    # runs ------------------------------------------------------------------------------------

    def save_run(self, run: RunState) -> None:
        self._db.execute(
            "INSERT INTO runs (execution_id, flow_key, session_id, state) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (execution_id) DO UPDATE SET state = excluded.state",
            (run.execution_id, run.flow_key, run.session_id, run.to_json()),
        )

    def load_run(self, execution_id: str) -> RunState | None:
        row = self._db.execute(
            "SELECT state FROM runs WHERE execution_id = ?", (execution_id,)
        ).fetchone()
        return None if row is None else RunState.from_json(row[0])

    def session_runs(self, session_id: str) -> list[RunState]:
        rows = self._db.execute(
            "SELECT state FROM runs WHERE session_id = ? ORDER BY seq", (session_id,)
        ).fetchall()
        return [RunState.from_json(row[0]) for row in rows]

    # step traces -----------------------------------------------------------------------------

    def record_step(self, execution_id: str, record: StepRecord) -> None:
        data = shallow_dict(record)
        data["usage"] = None if record.usage is None else shallow_dict(record.usage)
        self._db.execute(
            "INSERT INTO steps (execution_id, step_id, attempt, loop_index, record) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (execution_id, step_id, attempt, loop_index) "
            "DO UPDATE SET record = excluded.record",
            (
                execution_id,
                record.step_id,
                record.attempt,
                _NO_LOOP if record.loop_index is None else record.loop_index,
                json.dumps(data),
            ),
        )

    def step_records(self, execution_id: str) -> list[dict[str, Any]]:
        """Every recorded step attempt of a run, in the order the steps started."""
        rows = self._db.execute(
            "SELECT record FROM steps WHERE execution_id = ? ORDER BY seq", (execution_id,)
        ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def fail_running_steps(
        self, execution_id: str | None, *, error: dict[str, str], completed_at: str
    ) -> None:
        """Mark step attempts still recorded as running (of one run, or of every run when
        ``execution_id`` is None) as failed with ``error``."""
        query = 'SELECT seq, record FROM steps WHERE record LIKE \'%"status": "running"%\''
        arguments: tuple[str, ...] = ()
        if execution_id is not None:
            query += " AND execution_id = ?"
            arguments = (execution_id,)
        for seq, text in self._db.execute(query, arguments).fetchall():
            record = json.loads(text)
            if record.get("status") != "running":
                continue
            record.update(status="failed", completed_at=completed_at, error=error)
            self._db.execute("UPDATE steps SET record = ? WHERE seq = ?", (json.dumps(record), seq))

    def runs_left_running(self) -> list[RunState]:
        """Runs stored as running: at start-up, those the previous process was advancing."""
        rows = self._db.execute(
            'SELECT state FROM runs WHERE state LIKE \'%"status": "running"%\''
        ).fetchall()
        runs = [RunState.from_json(row[0]) for row in rows]
        return [run for run in runs if run.status == "running"]

    # events ----------------------------------------------------------------------------------

    def append_events(self, execution_id: str, events: list[Event]) -> None:
        """Store a batch of a run's events in one transaction."""
        rows = [
            (execution_id, e.event_type, json.dumps(dict(e.fields))) for e in events if e.persist
        ]
        if not rows:
            return
        with self._transaction():
            self._db.executemany(
                "INSERT INTO events (execution_id, event_type, fields) VALUES (?, ?, ?)", rows
            )

    @contextmanager
    def _transaction(self) -> Generator[None, None, None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def events_after(self, execution_id: str, after_seq: int) -> Iterator[tuple[int, Event]]:
        rows = self._db.execute(
            "SELECT seq, event_type, fields FROM events WHERE execution_id = ? AND seq > ? "
            "ORDER BY seq",
            (execution_id, after_seq),
        ).fetchall()
        for seq, event_type, fields in rows:
            yield int(seq), Event(str(event_type), json.loads(fields))

    # jobs ------------------------------------------------------------------------------------

    def enqueue_job(self, execution_id: str) -> None:
        self._db.execute(
            "INSERT INTO jobs (execution_id, status) VALUES (?, 'pending')", (execution_id,)
        )

    def oldest_pending_job(self) -> str | None:
        """The execution id of the job that has waited longest in the queue, if any."""
        row = self._db.execute(
            "SELECT execution_id FROM jobs WHERE status = 'pending' ORDER BY seq LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    def set_job_status(self, execution_id: str, status: str) -> None:
        self._db.execute(
            "UPDATE jobs SET status = ? WHERE execution_id = ?", (status, execution_id)
        )

    def requeue_interrupted_jobs(self) -> int:
        """Jobs that were running when the server stopped go back to the queue."""
        return self._db.execute(
            "UPDATE jobs SET status = 'pending' WHERE status = 'running'"
        ).rowcount

    def is_job(self, execution_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM jobs WHERE execution_id = ?", (execution_id,))
        return row.fetchone() is not None

    # credits ---------------------------------------------------------------------------------

    def balance(self, digest: str, *, initial: Decimal) -> Decimal:
        """The balance of the key whose :func:`key_hash` is ``digest`` (``initial`` at first)."""
        self._db.execute(
            "INSERT OR IGNORE INTO key_balances (key_hash, balance_usd) VALUES (?, ?)",
            (digest, str(initial)),
        )
        row = self._db.execute(
            "SELECT balance_usd FROM key_balances WHERE key_hash = ?", (digest,)
        ).fetchone()
        return Decimal(row[0])

    def charge(self, digest: str, amount: Decimal, *, initial: Decimal) -> None:
        balance = self.balance(digest, initial=initial)
        self._db.execute(
            "UPDATE key_balances SET balance_usd = ? WHERE key_hash = ?",
            (str(balance - amount), digest),
        )
