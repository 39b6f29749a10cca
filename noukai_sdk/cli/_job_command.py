"""``noukai job submit|status|wait``: queue a flow on the server and follow the job by its id."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from noukai_sdk.cli import _exit_codes
from noukai_sdk.cli._client_options import (
    add_client_options,
    add_flow_argument,
    add_input_options,
    build_client,
    flow_of,
    parse_params,
    parse_version,
)
from noukai_sdk.cli._failures import CommandError
from noukai_sdk.cli._status_line import StatusLine
from noukai_sdk.cli._terminal import is_terminal, print_json, print_result, wire_json, write

TERMINAL_STATUSES = ("completed", "failed", "cancelled")


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "job", help="queue a flow as a job and follow it", description="Queued execution."
    )
    actions = parser.add_subparsers(dest="action", metavar="<action>", required=True)

    submit = actions.add_parser(
        "submit",
        help="queue a run; prints its execution id",
        description="Queue a run on the server's job queue and print its execution id "
        "(with --wait: wait for it and print its result).",
    )
    add_flow_argument(submit)
    submit.add_argument("-m", "--message", default=None, help="the user message")
    add_input_options(submit)
    submit.add_argument("--wait", action="store_true", help="wait for the job and print its result")
    _add_wait_options(submit)
    _add_format_option(submit)
    add_client_options(submit)
    submit.set_defaults(handler=run_submit, command_name="job submit")

    status = actions.add_parser(
        "status", help="show a job's status once", description="Fetch a job's status once."
    )
    _add_job_arguments(status)
    _add_format_option(status)
    add_client_options(status)
    status.set_defaults(handler=run_status, command_name="job status")

    wait = actions.add_parser(
        "wait",
        help="wait for a job and print its result",
        description="Poll a job until it is completed, failed or cancelled; print its result.",
    )
    _add_job_arguments(wait)
    _add_wait_options(wait)
    _add_format_option(wait)
    add_client_options(wait)
    wait.set_defaults(handler=run_wait, command_name="job wait")


def _add_job_arguments(parser: argparse.ArgumentParser) -> None:
    add_flow_argument(parser)
    parser.add_argument("execution_id", metavar="EXECUTION_ID", help="the job's execution id")


def _add_wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="give up after (default 300)",
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="time between polls (default 1)",
    )


def _add_format_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=["text", "json"],
        default="text",
        help="text (default) or the API's JSON object",
    )


def run_submit(args: argparse.Namespace) -> int:
    with build_client(args) as client:
        job = flow_of(client, args).execute_async(
            args.message,
            parameters=parse_params(args.param),
            version=parse_version(args.flow_version),
        )
        if args.wait:
            return _wait_and_report(job, args)
        if args.format == "json":
            print_json(wire_json(job.accepted))
        else:
            write(sys.stdout, job.execution_id + "\n")
    return _exit_codes.OK


def run_status(args: argparse.Namespace) -> int:
    with build_client(args) as client:
        status = flow_of(client, args).job(args.execution_id).poll()
    if args.format == "json":
        print_json(wire_json(status))
    else:
        write(sys.stdout, f"{status.status}\n")
    return _exit_codes.OK


def run_wait(args: argparse.Namespace) -> int:
    with build_client(args) as client:
        return _wait_and_report(flow_of(client, args).job(args.execution_id), args)


def _wait_and_report(job: Any, args: argparse.Namespace) -> int:
    if args.timeout <= 0 or args.poll_interval < 0:
        raise CommandError("--timeout must be > 0 and --poll-interval >= 0")
    line = StatusLine() if is_terminal(sys.stderr) else None
    if line is not None:
        line.running(f"waiting for job {job.execution_id}")
    try:
        status = job.wait(timeout=args.timeout, poll_interval=args.poll_interval)
    finally:
        if line is not None:
            line.close()
    if args.format == "json":
        print_json(wire_json(status))
    if status.status == "completed":
        if args.format == "text":
            print_result(status.result)
        return _exit_codes.OK
    reason = f": {status.error}" if status.error else ""
    raise CommandError(
        f"job {status.execution_id} {status.status}{reason}", _exit_codes.FLOW_FAILED
    )
