"""Options every client-side command shares: API key, environment, dev port."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-key", default=None, help="API key (default: $NOUKAI_API_KEY)")
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


def build_client(args: argparse.Namespace) -> Any:
    """A ``noukai_sdk.Noukai`` client configured from the command line and environment."""
    import noukai_sdk

    if args.dev_port is not None:
        os.environ["NOUKAI_DEV_PORT"] = str(args.dev_port)
    client_class: Any = noukai_sdk.Noukai  # type: ignore[attr-defined, unused-ignore]
    return client_class(args.api_key, env=args.env)
