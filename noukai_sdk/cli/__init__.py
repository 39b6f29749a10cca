"""The ``noukai`` command: ``dev-server``, ``run`` and ``session export``.

Each command lives in its own module and is imported only when it runs, so ``noukai --help``
stays fast and ``noukai run`` never loads the dev server.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from noukai_sdk._version import __version__
from noukai_sdk.cli import _dev_server_command, _run_command, _session_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="noukai", description="Run Noukai flows and a local Noukai API."
    )
    parser.add_argument("--version", action="version", version=f"noukai-sdk {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    _dev_server_command.add_parser(commands)
    _run_command.add_parser(commands)
    _session_command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process arguments), run the command, return its exit status."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    status: int = args.handler(args)
    return status
