"""``noukai session export <id> -o file.json``: save a captured session as a replay cassette."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from noukai_sdk.cli._client_options import add_client_options, build_client


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "session", help="work with captured sessions"
    )
    actions = parser.add_subparsers(dest="action", metavar="<action>", required=True)
    export = actions.add_parser(
        "export",
        help="save a session to a cassette file",
        description="Fetch a captured session and save it as a cassette file for offline replay.",
    )
    export.add_argument("session_id", help="the session id (a UUID)")
    export.add_argument(
        "-o", "--output", type=Path, required=True, help="the cassette file to write"
    )
    add_client_options(export)
    export.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    from noukai_sdk import NoukaiError  # type: ignore[attr-defined, unused-ignore]
    from noukai_sdk.cassettes import export_session

    try:
        with build_client(args) as client:
            export_session(client, args.session_id, args.output)
    except NoukaiError as exc:
        sys.stderr.write(f"noukai session export: {type(exc).__name__}: {exc}\n")
        return 1
    print(f"wrote {args.output}")
    return 0
