"""``noukai trace SLUG EXECUTION_ID``: a run's steps as a table (status, duration, tokens, cost)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from noukai_sdk.cli import _exit_codes
from noukai_sdk.cli._client_options import (
    add_client_options,
    add_flow_argument,
    build_client,
    flow_of,
)
from noukai_sdk.cli._failures import CommandError
from noukai_sdk.cli._terminal import (
    format_cost,
    format_duration,
    print_json,
    rich_console,
    wire_json,
    write,
)

COLUMNS = ("step", "attempt", "status", "duration", "tokens", "cost")


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "trace",
        help="show a run's steps: status, duration, tokens, cost",
        description="Show the trace of a run (an execution id from run, job or map).",
    )
    add_flow_argument(parser)
    parser.add_argument("execution_id", metavar="EXECUTION_ID", help="the run's execution id")
    parser.add_argument("--step", default=None, metavar="ID", help="only this step")
    parser.add_argument(
        "--attempt",
        default=None,
        metavar="all|N",
        help="with --step: every attempt ('all') or attempt N (default: the latest)",
    )
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="a table (default) or JSON"
    )
    add_client_options(parser)
    parser.set_defaults(handler=run, command_name="trace")


def run(args: argparse.Namespace) -> int:
    attempt = _attempt(args.attempt)
    if attempt != "latest" and args.step is None:
        raise CommandError("--attempt needs --step ID")
    with build_client(args) as client:
        run_handle = flow_of(client, args).run(args.execution_id)
        trace: Any
        if args.step is None:
            trace = run_handle.trace()
            summary, steps = trace.flow_run, list(trace.steps)
        else:
            answer = run_handle.step_trace(args.step, attempt=attempt)
            summary, steps = None, list(getattr(answer, "attempts", None) or [answer])
            trace = answer
    if args.format == "json":
        print_json(wire_json(trace))
        return _exit_codes.OK
    if summary is not None:
        write(
            sys.stdout,
            f"run {summary.id}  {summary.status}  {format_duration(summary.duration_ms)}\n",
        )
    _print_table([_row(step) for step in steps])
    return _exit_codes.OK


def _attempt(text: str | None) -> Any:
    if text is None or text == "latest":
        return "latest"
    if text == "all":
        return "all"
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise CommandError(f"--attempt expects 'all', 'latest' or a number >= 1, got {text!r}")


def _row(step: Any) -> tuple[str, ...]:
    name = step.step_id if step.loop_index is None else f"{step.step_id}[{step.loop_index}]"
    tokens = "-" if step.tokens is None else str(step.tokens.total)
    return (
        name,
        str(step.attempt),
        step.status,
        format_duration(step.duration_ms),
        tokens,
        format_cost(step.cost_usd),
    )


def _print_table(rows: list[tuple[str, ...]]) -> None:
    console = rich_console(sys.stdout)
    if console is not None:
        import importlib

        table_module: Any = importlib.import_module("rich.table")
        table = table_module.Table(show_edge=False, header_style="bold")
        for column in COLUMNS:
            table.add_column(column, justify="left" if column in ("step", "status") else "right")
        for row in rows:
            table.add_row(*row, style="red" if row[2] == "failed" else None)
        console.print(table)
        return
    widths = [max(len(column), *(len(row[i]) for row in rows)) for i, column in enumerate(COLUMNS)]
    for row in (COLUMNS, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        write(sys.stdout, "  ".join(cells).rstrip() + "\n")
