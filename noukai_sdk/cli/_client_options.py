"""Options every client-side command shares (key, environment, org/project), and the client they build."""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, Any

from noukai_sdk.cli._failures import CommandError

if TYPE_CHECKING:
    from noukai_sdk import AsyncFlow, AsyncNoukai, Flow, Noukai

DEV_SERVER_KEY = "nk_dev_local"
"""The dev server's default key: what ``--env dev`` uses when no key is given."""


def add_client_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--api-key",
        default=None,
        help="API key (default: $NOUKAI_API_KEY; against the dev server: nk_dev_local)",
    )
    group.add_argument(
        "--env",
        default=None,
        choices=["dev", "production"],
        help="environment (default: $NOUKAI_ENV, else production)",
    )
    group.add_argument(
        "--dev-port",
        type=int,
        default=None,
        help="port of a local dev server (default: $NOUKAI_DEV_PORT, else 8080)",
    )
    group.add_argument("--org", default=None, help="organisation of a short flow slug")
    group.add_argument("--project", default=None, help="project of a short flow slug")


def add_flow_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "flow", metavar="SLUG", help="the flow: org/project/slug, or slug with --org/--project"
    )


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """``--param k=v`` and ``--version V``, shared by ``run``, ``job submit`` and ``map``."""
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a flow parameter (VALUE is parsed as JSON when it can be); repeatable",
    )
    parser.add_argument(
        "--version",
        "--flow-version",
        dest="flow_version",
        default=None,
        metavar="N|draft|production",
        help="flow version (default: the published one)",
    )


def parse_params(pairs: list[str]) -> dict[str, Any]:
    """``["k=v", "n=3"]`` -> ``{"k": "v", "n": 3}``; values that are valid JSON are decoded."""
    parameters: dict[str, Any] = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        if not separator or not key:
            raise CommandError(f"--param expects KEY=VALUE, got {pair!r}")
        try:
            parameters[key] = json.loads(text)
        except ValueError:
            parameters[key] = text
    return parameters


def parse_version(text: str | None) -> Any:
    """``"3"`` -> ``3``; ``draft``/``production`` as they are; ``None`` stays ``None``."""
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    if text in ("draft", "production"):
        return text
    raise CommandError(f"--version expects a number, 'draft' or 'production', got {text!r}")


def build_client(args: argparse.Namespace) -> Noukai:
    """A blocking client configured from the command line and environment."""
    import noukai_sdk

    client = noukai_sdk.Noukai(**_client_arguments(args))
    # The API's address, for error messages that name the URL that refused the connection.
    args.base_url = client.base_url
    return client


def build_async_client(args: argparse.Namespace) -> AsyncNoukai:
    """An asyncio client configured like :func:`build_client`."""
    import noukai_sdk

    client = noukai_sdk.AsyncNoukai(**_client_arguments(args))
    args.base_url = client.base_url
    return client


def flow_of(client: Noukai, args: argparse.Namespace) -> Flow:
    """The flow named on the command line, with a short slug resolved by ``--org/--project``."""
    return client.flow(_slug(args))


def async_flow_of(client: AsyncNoukai, args: argparse.Namespace) -> AsyncFlow:
    return client.flow(_slug(args))


def _slug(args: argparse.Namespace) -> str:
    slug: str = args.flow
    if "/" in slug:
        return slug
    if args.org and args.project:
        return f"{args.org}/{args.project}/{slug}"
    raise CommandError(
        f"{slug!r} is a short slug: write org/project/{slug}, or pass --org and --project"
    )


def _client_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """Against the local dev server a missing key falls back to its default key, so
    ``noukai run demo/examples/hello-world -m hi --env dev`` works out of the box; production
    never gets a made-up key."""
    api_key = args.api_key or os.environ.get("NOUKAI_API_KEY") or None
    env = args.env or os.environ.get("NOUKAI_ENV")
    if api_key is None and env in ("dev", "development"):
        api_key = DEV_SERVER_KEY
    if args.dev_port is not None and env not in ("dev", "development"):
        raise CommandError("--dev-port only applies to the dev server: add --env dev")
    if args.dev_port is not None and not 0 < args.dev_port < 65536:
        raise CommandError(f"--dev-port must be a port number, got {args.dev_port}")
    arguments: dict[str, Any] = {"env": env, "dev_port": args.dev_port}
    if api_key is not None:
        arguments["api_key"] = api_key
    return arguments
