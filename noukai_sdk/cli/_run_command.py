"""``noukai run <org/project/slug> -m "hi"``: execute a flow once and print its result."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from noukai_sdk.cli._client_options import add_client_options, build_client


def add_parser(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "run",
        help="execute a flow and print its result",
        description="Execute a flow once (blocking) and print its result.",
    )
    parser.add_argument("flow", metavar="org/project/slug", help="the flow to run")
    parser.add_argument("-m", "--message", default=None, help="the user message")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a flow parameter (VALUE is parsed as JSON when it can be); repeatable",
    )
    parser.add_argument(
        "--flow-version",
        dest="flow_version",
        default=None,
        metavar="N|draft|production",
        help="flow version (default: production)",
    )
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    add_client_options(parser)
    parser.set_defaults(handler=run)


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``["k=v", "n=3"]`` -> ``{"k": "v", "n": 3}``; values that are valid JSON are decoded."""
    parameters: dict[str, Any] = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        if not separator or not key:
            raise SystemExit(f"noukai run: --param expects KEY=VALUE, got {pair!r}")
        try:
            parameters[key] = json.loads(text)
        except ValueError:
            parameters[key] = text
    return parameters


def run(args: argparse.Namespace) -> int:
    from noukai_sdk import NoukaiError  # type: ignore[attr-defined, unused-ignore]

    parameters = parse_params(args.param)
    options: dict[str, Any] = {"parameters": parameters}
    if args.flow_version is not None:
        options["version"] = (
            int(args.flow_version) if args.flow_version.isdigit() else args.flow_version
        )
    try:
        with build_client(args) as client:
            result = client.flow(args.flow).execute(args.message, **options)
    except NoukaiError as exc:
        sys.stderr.write(f"noukai run: {type(exc).__name__}: {exc}\n")
        return 1
    except ValueError as exc:
        sys.stderr.write(f"noukai run: {exc}\n")
        return 2
    if getattr(result, "requires_tool_calls", False):
        sys.stderr.write(
            "noukai run: the flow paused for tool calls; use the SDK with a tool_handler.\n"
        )
        print(json.dumps(_as_json(result), indent=2))
        return 3
    if args.json:
        print(json.dumps(_as_json(result), indent=2))
    else:
        output = result.result
        print(output if isinstance(output, str) else json.dumps(output, indent=2))
    return 0 if getattr(result, "status", "completed") != "failed" else 1


def _as_json(result: Any) -> Any:
    dump = getattr(result, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True, exclude_none=True)
    return result
