"""Settings of one dev-server process, as given on the command line."""

from __future__ import annotations

import ipaddress
import socket
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
    ``job_pickup_ms`` is how long a newly queued job waits before the worker takes it, as on a
    hosted queue: a job is always seen ``pending`` right after it is submitted.
    ``stop_with_stdin`` stops the server when its standard input closes (with the parent that
    holds the pipe).
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
    stop_with_stdin: bool = False


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only.

    A name counts when every address it resolves to is a loopback address; ``""``, ``0.0.0.0``
    and ``::`` (every interface) do not.
    """
    name = host.strip("[]")
    if name.lower() == "localhost" or name.lower().endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        try:
            infos = socket.getaddrinfo(name, None) if name else []
        except (OSError, UnicodeError):
            return False
        return bool(infos) and all(is_loopback(str(info[4][0])) for info in infos)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
