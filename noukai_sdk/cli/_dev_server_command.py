"""``noukai dev-server``: serve a local Noukai API v1 (see ``noukai_sdk.devserver``)."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from pathlib import Path
from typing import Any

from noukai_sdk.devserver._config import (
    DEFAULT_BLOCK_LATENCY_MS,
    DEFAULT_DB,
    DEFAULT_HOST,
    DEFAULT_JOB_PICKUP_MS,
    DEFAULT_PORT,
    READY_MARKER,
)


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "dev-server",
        help="serve a local Noukai API v1 for examples and tests",
        description=(
            "Serve a local Noukai API v1 with the demo flows. Prints "
            f"'{READY_MARKER} <base url>' once it accepts connections; stops on Ctrl-C/SIGTERM."
        ),
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="interface to bind (default: loopback)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="TCP port; 0 picks a free one (default: 8080)",
    )
    parser.add_argument(
        "--db", default=DEFAULT_DB, help="SQLite file, or :memory: (default: ./noukai-dev.sqlite3)"
    )
    parser.add_argument(
        "--flows",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="extra flows directory (<org>/<project>/<slug>.yaml); repeatable",
    )
    parser.add_argument(
        "--keys",
        type=Path,
        default=None,
        metavar="FILE",
        help="API keys YAML file (default: nk_dev_local, and nk_dev_no_credits with no credits)",
    )
    parser.add_argument(
        "--latency",
        type=int,
        default=DEFAULT_BLOCK_LATENCY_MS,
        metavar="MS",
        help=f"default simulated block latency (default: {DEFAULT_BLOCK_LATENCY_MS})",
    )
    parser.add_argument(
        "--job-pickup",
        type=int,
        default=DEFAULT_JOB_PICKUP_MS,
        metavar="MS",
        help=f"how long a new job waits before the worker takes it (default: {DEFAULT_JOB_PICKUP_MS})",
    )
    parser.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        help="do not write the JSON access log (one line per request) to stderr",
    )
    parser.add_argument(
        "--stop-with-stdin",
        action="store_true",
        help="stop when standard input closes (run from a supervisor's pipe, it stops with it)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.port < 0 or args.port > 65535:
        raise SystemExit(f"noukai dev-server: invalid --port {args.port}")
    if args.latency < 0:
        raise SystemExit(f"noukai dev-server: --latency must be >= 0, got {args.latency}")
    if args.job_pickup < 0:
        raise SystemExit(f"noukai dev-server: --job-pickup must be >= 0, got {args.job_pickup}")
    missing = _missing_extra_module()
    if missing is not None:
        sys.stderr.write(
            f"noukai dev-server needs the 'devserver' extra ({missing} is not installed): "
            "pip install 'noukai-sdk[devserver]'\n"
        )
        return 2
    from noukai_sdk.devserver import ServerConfig, serve

    config = ServerConfig(
        host=args.host,
        port=args.port,
        db=args.db,
        flow_dirs=tuple(args.flows),
        keys_file=args.keys,
        latency_ms=args.latency,
        job_pickup_ms=args.job_pickup,
        access_log=args.access_log,
        stop_with_stdin=args.stop_with_stdin,
    )
    # Until the server installs its own handlers (once it is listening), a stop is quiet too.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return serve(config)
    except _Terminated:
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        return 130


class _Terminated(Exception):
    """SIGTERM arrived while the server was still starting."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated


def _missing_extra_module() -> str | None:
    """The first module of the ``devserver`` extra that cannot be imported, if any."""
    for module in ("starlette", "uvicorn", "yaml"):
        try:
            importlib.import_module(module)
        except ImportError:
            return "PyYAML" if module == "yaml" else module
    return None
