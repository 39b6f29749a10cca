"""A FastAPI relay: browsers (or ``RelayFlow``) run one flow without ever seeing the API key.

Needs ``pip install 'noukai-sdk[devserver,fastapi]'`` (from a clone: ``pip install -e '.[devserver,fastapi]'``).

    python examples/relay_fastapi.py          # dev server + relay on http://127.0.0.1:8000
    python examples/relay_fastapi.py 9000     # the relay on another port

The app below is all a real deployment needs: an ``AsyncNoukai`` holding the key, and
``mount_flow_relay`` pinned to one flow with your own ``authorize`` check (return ``True`` to
allow; anything falsy is a 403). The browser runs the tools, so it may send their definitions
(``allow={"tools"}``); every other field but the message is refused. Behind several workers,
pass them all one ``secret=`` (here ``NOUKAI_RELAY_SECRET``) so a pause paused on one worker
can be resumed on another. Try it with
``python examples/relay_client.py http://127.0.0.1:8000/agent/execute``.
"""

from __future__ import annotations

import os
import signal
import sys

from fastapi import FastAPI, Request

from noukai_sdk import AsyncNoukai
from noukai_sdk.adapters.relay import mount_flow_relay

DEMO_USER_TOKEN = "Bearer demo-user"
"""Stands in for your app's own session check (cookie, JWT, ...)."""


def create_app(noukai: AsyncNoukai) -> FastAPI:
    """The relay app: ``POST /agent/execute`` runs ``demo/examples/tools-enabled``."""
    app = FastAPI()

    async def authorize(request: Request) -> bool:
        return request.headers.get("authorization") == DEMO_USER_TOKEN

    mount_flow_relay(
        app,
        client=noukai,
        org="demo",
        project="examples",
        slug="tools-enabled",
        authorize=authorize,
        allow={"tools"},
        secret=os.environ.get("NOUKAI_RELAY_SECRET"),  # None: a random secret for this process
    )
    return app


def main() -> None:
    import uvicorn

    from noukai_sdk.devserver.process import DevServerProcess

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    with DevServerProcess(latency_ms=0) as server:
        noukai = AsyncNoukai(server.api_key, env="dev", dev_port=server.port)
        print(f"relay on http://127.0.0.1:{port}/agent/execute (Ctrl-C to stop)", flush=True)
        uvicorn.run(create_app(noukai), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    # SIGTERM exits like Ctrl-C would: the `with` blocks run, so the dev server stops too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main()
