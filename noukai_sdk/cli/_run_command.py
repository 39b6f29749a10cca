"""``noukai run SLUG -m "hi"``: run a flow once, live on a terminal, as text, JSON or JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, cast

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
from noukai_sdk.cli._flow_failure import failure_line, flow_error
from noukai_sdk.cli._run_views import JsonLinesView, LiveView, QuietView
from noukai_sdk.cli._status_line import StatusLine
from noukai_sdk.cli._terminal import is_terminal, print_json, print_result, wire_json


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "run",
        help="run a flow and print its result",
        description=(
            "Run a flow once. On a terminal each step appears as it runs (duration, tokens, "
            "cost) and streamed text is printed as it arrives; through a pipe only the result "
            "is printed. Progress and errors go to stderr."
        ),
    )
    add_flow_argument(parser)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("-m", "--message", default=None, help="the user message")
    source.add_argument(
        "--messages",
        type=Path,
        default=None,
        metavar="FILE",
        help="a JSON file with a list of chat messages ({role, content}); '-' reads stdin",
    )
    add_input_options(parser)
    parser.add_argument(
        "--format",
        choices=["text", "json", "jsonl"],
        default="text",
        help="text: the output; json: the final result object; jsonl: every event, one per line",
    )
    parser.add_argument(
        "--json", dest="format", action="store_const", const="json", help=argparse.SUPPRESS
    )
    add_client_options(parser)
    parser.set_defaults(handler=run, command_name="run")


def run(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {
        "parameters": parse_params(args.param),
        "version": parse_version(args.flow_version),
    }
    messages = None if args.messages is None else read_messages(args.messages)
    if messages is not None and args.format == "jsonl":
        raise CommandError(
            "--messages runs the flow in one call, which has no event stream: "
            "use --format text or json, or -m MESSAGE with jsonl"
        )
    with build_client(args) as client:
        flow = flow_of(client, args)
        if messages is not None or args.format == "json":
            return _run_blocking(flow, args, messages, options)
        return _run_streamed(flow, args, options)


def read_messages(path: Path) -> list[Any]:
    """The chat messages in a JSON file (a list of ``{role, content}`` objects)."""
    where = "stdin" if str(path) == "-" else str(path)
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read --messages {where}: {exc.strerror or exc}") from None
    try:
        messages = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"--messages {where} is not valid JSON: {exc}") from None
    if not isinstance(messages, list):
        raise CommandError(f"--messages {where} must hold a JSON list of messages")
    return messages  # pyright: ignore[reportUnknownVariableType]


def _run_streamed(flow: Any, args: argparse.Namespace, options: dict[str, Any]) -> int:
    view: Any
    if args.format == "jsonl":
        view = JsonLinesView()
    elif is_terminal(sys.stdout) or is_terminal(sys.stderr):
        # Progress belongs to stderr: shown whenever someone watches it, even if stdout is a file.
        view = LiveView(echo_text=is_terminal(sys.stdout))
    else:
        view = QuietView()
    outcome = _Outcome()
    try:
        with flow.events(args.message, run_remaining=True, **options) as events:
            for event in events:
                view.handle(event)
                outcome.observe(event)
    finally:
        view.close()
    outcome.raise_if_unsuccessful()
    if args.format == "text" and not view.streamed_result:
        print_result(outcome.result)
    return _exit_codes.OK


def _run_blocking(
    flow: Any, args: argparse.Namespace, messages: list[Any] | None, options: dict[str, Any]
) -> int:
    status = StatusLine() if is_terminal(sys.stderr) else None
    if status is not None:
        status.running(f"running {args.flow}")
    try:
        result = flow.execute(args.message, messages=messages, **options)
    finally:
        if status is not None:
            status.close()
    if result.requires_tool_calls:
        raise CommandError(_paused_message(result.tool_calls), _exit_codes.FLOW_FAILED)
    if args.format == "json":
        print_json(wire_json(result))
    if result.status == "failed":
        raise CommandError(
            failure_line(flow_error(result.result), result.execution_id), _exit_codes.FLOW_FAILED
        )
    if args.format == "text":
        print_result(result.result)
    return _exit_codes.OK


class _Outcome:
    """What the events of a run amount to: its result, or why it did not complete."""

    def __init__(self) -> None:
        self.result: Any = None
        self.execution_id: str | None = None
        self.failure: Any = None
        self.tool_calls: list[Any] | None = None

    def observe(self, event: Any) -> None:
        kind = event.type
        if kind in ("run_started", "flow_completed") and event.execution_id:
            self.execution_id = event.execution_id
        if kind == "flow_completed":
            self.result = event.result
        elif kind == "step_error":
            self.failure = event
        elif kind == "tool_calls_required":
            self.tool_calls = event.tool_calls
            self.execution_id = event.execution_id

    def raise_if_unsuccessful(self) -> None:
        if self.failure is not None:
            wire = {"error": self.failure.error, "step_id": self.failure.step_id}
            raise CommandError(
                failure_line(flow_error(wire), self.execution_id), _exit_codes.FLOW_FAILED
            )
        if self.tool_calls is not None:
            raise CommandError(_paused_message(self.tool_calls), _exit_codes.FLOW_FAILED)


def _paused_message(tool_calls: list[Any]) -> str:
    names: set[str] = set()
    for call in tool_calls:
        function = cast("dict[str, Any]", call).get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            names.add(str(cast("dict[str, Any]", function).get("name", "?")))
    which = f" ({', '.join(sorted(names))})" if names else ""
    return (
        f"the flow paused for tool calls{which}; the CLI cannot answer them: "
        "run it from Python with tool_handler="
    )
