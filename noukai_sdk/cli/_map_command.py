"""``noukai map SLUG --input rows.jsonl --output results.jsonl``: run a flow over many inputs.

Rows run through ``flow.map()`` (``--concurrency``, default 8) over one asyncio client, or through
the server's job queue with ``--jobs``. Results are written as rows finish; running again with the
same ``--output`` keeps the completed rows and runs only the others (failed ones included).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from noukai_sdk.cli import _exit_codes
from noukai_sdk.cli._client_options import (
    add_client_options,
    add_flow_argument,
    add_input_options,
    async_flow_of,
    build_async_client,
    parse_params,
    parse_version,
)
from noukai_sdk.cli._failures import CommandError
from noukai_sdk.cli._map_batch import MapSettings, RowOutcome, map_rows
from noukai_sdk.cli._map_rows import (
    completed_row,
    completed_rows,
    count_rows,
    failed_row,
    fingerprint,
    keep_only,
    read_rows,
    write_row,
)
from noukai_sdk.cli._progress import BatchProgress
from noukai_sdk.cli._terminal import is_terminal


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "map",
        help="run a flow over every row of a JSONL file",
        description=(
            "Run a flow once per input row (a JSON string: the message, or an object with "
            "message, messages, parameters, block_overrides). Each result is one JSON line "
            '{"index", "input", "status", "execution_id", "output" | "error"}. Re-running with '
            "the same --output skips the rows already completed."
        ),
    )
    add_flow_argument(parser)
    parser.add_argument("--input", type=Path, required=True, metavar="FILE.jsonl", help="the rows")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="FILE.jsonl",
        help="where results go (default: stdout); an existing file is resumed",
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, metavar="N", help="rows in flight at once (default 8)"
    )
    parser.add_argument(
        "--jobs",
        action="store_true",
        help="submit each row to the server's job queue and poll it (no connection held meanwhile)",
    )
    add_input_options(parser)
    add_client_options(parser)
    parser.set_defaults(handler=run, command_name="map")


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.concurrency <= 1000:
        raise CommandError(f"--concurrency must be between 1 and 1000, got {args.concurrency}")
    common: dict[str, Any] = {"version": parse_version(args.flow_version)}
    parameters = parse_params(args.param)
    if parameters:
        common["parameters"] = parameters
    total = count_rows(args.input, jobs=args.jobs)
    done = _resume_state(args)
    settings = MapSettings(concurrency=args.concurrency, jobs=args.jobs, common=common)
    live = args.output is not None or not is_terminal(sys.stdout)
    with ExitStack() as stack:
        sink: IO[str] = sys.stdout
        if args.output is not None:
            sink = stack.enter_context(args.output.open("a", encoding="utf-8"))
        progress = BatchProgress(total, len(done), live=live)
        stack.callback(progress.close)

        def finished(outcome: RowOutcome) -> None:
            if outcome.error is None:
                write_row(sink, completed_row(outcome.row, outcome.output, outcome.execution_id))
            else:
                write_row(sink, failed_row(outcome.row, outcome.error, outcome.execution_id))
            progress.advance(ok=outcome.error is None)

        rows = (row for row in read_rows(args.input, jobs=args.jobs) if row.index not in done)
        asyncio.run(_run(args, rows, settings, finished))
        failed = progress.failed
    return _exit_codes.FLOW_FAILED if failed else _exit_codes.OK


async def _run(args: argparse.Namespace, rows: Any, settings: MapSettings, finished: Any) -> None:
    async with build_async_client(args) as client:
        await map_rows(async_flow_of(client, args), rows, settings, finished)


def _resume_state(args: argparse.Namespace) -> set[int]:
    """Indexes already completed in ``--output``, after checking they came from this input."""
    if args.output is None:
        return set()
    if args.output.is_dir():
        raise CommandError(f"--output {args.output} is a directory; give a .jsonl file")
    done, lines = completed_rows(args.output)
    if not args.output.exists():
        return set()
    for row in read_rows(args.input, jobs=args.jobs):
        expected = done.get(row.index)
        if expected is not None and expected != fingerprint(row.value):
            raise CommandError(
                f"{args.output} holds results of a different input (row {row.index} differs); "
                "use another --output to start over"
            )
    keep_only(args.output, lines)
    return set(done)
