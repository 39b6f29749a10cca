"""``noukai session export ID -o FILE``: save a captured session as a replay cassette."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from noukai_sdk.cli import _exit_codes
from noukai_sdk.cli._client_options import add_client_options, build_client
from noukai_sdk.cli._failures import CommandError
from noukai_sdk.cli._terminal import write


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "session", help="work with captured sessions", description="Captured sessions."
    )
    actions = parser.add_subparsers(dest="action", metavar="<action>", required=True)
    export = actions.add_parser(
        "export",
        help="save a session to a cassette file",
        description="Fetch a captured session and save it as a cassette file for offline replay.",
    )
    export.add_argument("session_id", metavar="ID", help="the session id (a UUID)")
    export.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE|DIR",
        help="the cassette file to write; an existing directory gets DIR/<ID>.json",
    )
    add_client_options(export)
    export.set_defaults(handler=run_export, command_name="session export")


def cassette_path(output: str, session_id: str) -> Path:
    """Where the cassette goes: ``output`` itself, or ``output/<id>.json`` for a directory
    (an existing one, or any path written with a trailing slash)."""
    path = Path(output)
    if output.endswith(("/", os.sep)) and not path.is_dir():
        raise CommandError(f"cannot write into {output}: the directory does not exist")
    if path.is_dir():
        return path / f"{session_id}.json"
    if not path.parent.is_dir():
        raise CommandError(f"cannot write {path}: directory {path.parent} does not exist")
    return path


def run_export(args: argparse.Namespace) -> int:
    from noukai_sdk.cassettes import export_session

    target = cassette_path(args.output, args.session_id)
    with build_client(args) as client:
        try:
            export_session(client, args.session_id, target)
        except OSError as exc:
            raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from None
    write(sys.stderr, f"wrote {target}\n")
    return _exit_codes.OK
