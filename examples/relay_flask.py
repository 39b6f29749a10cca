"""A Flask relay: ``flow_relay_blueprint`` pinned to one flow, with the key kept server-side.

Needs ``pip install 'noukai-sdk[devserver,flask]'`` (from a clone: ``pip install -e '.[devserver,flask]'``).

    python examples/relay_flask.py            # dev server + relay on http://127.0.0.1:5000
    python examples/relay_flask.py 9000       # the relay on another port

Then ``python examples/relay_client.py http://127.0.0.1:5000/agent/execute``. As in
``relay_fastapi.py``, ``authorize`` returns ``True`` to allow, and only the message and the tool
definitions (``allow={"tools"}``) are forwarded.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from flask import Flask

from noukai_sdk import Noukai
from noukai_sdk.adapters.relay import RelayBounds, flow_relay_blueprint

DEMO_USER_TOKEN = "Bearer demo-user"
"""Stands in for your app's own session check."""


def create_app(noukai: Noukai) -> Flask:
    """The relay app: ``POST /agent/execute`` runs ``demo/examples/tools-enabled``."""
    app = Flask(__name__)

    def authorize(request: Any) -> bool:
        return bool(request.headers.get("Authorization") == DEMO_USER_TOKEN)

    app.register_blueprint(
        flow_relay_blueprint(
            client=noukai,
            org="demo",
            project="examples",
            slug="tools-enabled",
            authorize=authorize,
            bounds=RelayBounds(max_body_bytes=64 * 1024, max_messages=20),
            allow={"tools"},
            secret=os.environ.get("NOUKAI_RELAY_SECRET"),
        )
    )
    return app


def main() -> None:
    from noukai_sdk.devserver.process import DevServerProcess

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with (
        DevServerProcess(latency_ms=0) as server,
        Noukai(server.api_key, env="dev", dev_port=server.port) as noukai,
    ):
        print(f"relay on http://127.0.0.1:{port}/agent/execute (Ctrl-C to stop)", flush=True)
        create_app(noukai).run(host="127.0.0.1", port=port)


if __name__ == "__main__":
    # SIGTERM exits like Ctrl-C would: the `with` blocks run, so the dev server stops too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main()
