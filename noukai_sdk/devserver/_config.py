"""Settings of one dev-server process, as given on the command line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_DB = "noukai-dev.sqlite3"
DEFAULT_BLOCK_LATENCY_MS = 300
DEFAULT_JOB_PICKUP_MS = 100
API_PREFIX = "/api/v1"
READY_MARKER = "NOUKAI_DEV_SERVER_READY"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Where to listen, where to keep state, which flows and keys to serve, how slow blocks are.

    ``latency_ms`` is the default simulated duration of a block; a block that sets its own
    ``latency_ms`` in YAML keeps it (that is what makes the ``slow`` demo flow slow).
    ``job_pickup_ms`` is how long an idle job worker takes to notice a newly queued job, as a
    hosted queue does: a job is always seen ``pending`` right after it is submitted.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db: str = DEFAULT_DB
    flow_dirs: tuple[Path, ...] = ()
    keys_file: Path | None = None
    latency_ms: int = DEFAULT_BLOCK_LATENCY_MS
    job_workers: int = 1
    job_pickup_ms: int = DEFAULT_JOB_PICKUP_MS
    access_log: bool = True
