"""The ``noukai`` command: ``run``, ``job``, ``trace``, ``map``, ``session export``, ``dev-server``
and ``completion``.

Each command lives in its own module and imports the SDK, the dev server or ``rich`` only when it
runs, so ``noukai --help`` stays fast and ``noukai run`` never loads the dev server. Failures end as
one line on stderr with a documented exit status (see ``_exit_codes``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from noukai_sdk._version import __version__
from noukai_sdk.cli import (
    _completion_command,
    _dev_server_command,
    _job_command,
    _map_command,
    _run_command,
    _session_command,
    _trace_command,
)
from noukai_sdk.cli._failures import run_command

EPILOG = """\
exit status: 0 ok, 1 the flow failed, 2 usage or setup error, 3 the API refused the request,
4 the API could not be reached or timed out, 130 interrupted (Ctrl-C), 70 internal error.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="noukai",
        description="Run Noukai flows and a local Noukai API.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"noukai-sdk {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="on failure, also show the traceback (keys redacted)"
    )
    commands = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    _dev_server_command.add_parser(commands)
    _run_command.add_parser(commands)
    _job_command.add_parser(commands)
    _trace_command.add_parser(commands)
    _map_command.add_parser(commands)
    _session_command.add_parser(commands)
    _completion_command.add_parser(commands)
    for subparser in _leaf_parsers(parser):
        if "--debug" not in subparser._option_string_actions:
            # ``--debug`` after the command works too; SUPPRESS keeps a leading one from being reset.
            subparser.add_argument(
                "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
            )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: the process arguments), run the command, return its exit status."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    return run_command(args.handler, args)


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers that run a command (no sub-commands of their own), depth first."""
    leaves: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():  # pyright: ignore[reportUnknownVariableType, reportUnknownMemberType]
                assert isinstance(child, argparse.ArgumentParser)
                below = _leaf_parsers(child)
                leaves.extend(below or [child])
    return leaves
