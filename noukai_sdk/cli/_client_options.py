"""Options every client-side command shares: API key, environment, dev port."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-key",
        default=None,
        help="API key (default: $NOUKAI_API_KEY; against the dev server: nk_dev_local)",
    )
    parser.add_argument(
        "--env",
        default=None,
        choices=["dev", "production"],
        help="environment (default: $NOUKAI_ENV, else production)",
    )
    parser.add_argument(
        "--dev-port",
        type=int,
        default=None,
        help="port of a local dev server (default: $NOUKAI_DEV_PORT, else 8080)",
    )


DEV_SERVER_KEY = "nk_dev_local"
"""The dev server's default key: what ``--env dev`` uses when no key is given."""


def build_client(args: argparse.Namespace) -> Any:
    """A ``noukai_sdk.Noukai`` client configured from the command line and environment.

    Against the local dev server a missing key falls back to its default key, so
    ``noukai run demo/examples/hello-world -m hi --env dev`` works out of the box; production
    never gets a made-up key.
    """
    import noukai_sdk

    if args.dev_port is not None:
        os.environ["NOUKAI_DEV_PORT"] = str(args.dev_port)
    api_key = args.api_key or os.environ.get("NOUKAI_API_KEY") or None
    env = args.env or os.environ.get("NOUKAI_ENV")
    if api_key is None and env in ("dev", "development"):
        api_key = DEV_SERVER_KEY
    client_class: Any = noukai_sdk.Noukai  # type: ignore[attr-defined, unused-ignore]
    return client_class(api_key, env=args.env)
