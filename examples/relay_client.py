"""Run a flow through a relay with ``RelayFlow``: no API key here, and the tools run locally.

Needs ``pip install 'noukai-sdk[devserver,fastapi]'`` (from a clone: ``pip install -e '.[devserver,fastapi]'``)
to start the relay itself; against a relay you run, the base install is enough.

    python examples/relay_client.py                      # starts a dev server and the relay itself
    python examples/relay_client.py http://127.0.0.1:8000/agent/execute   # a relay you run

The relay pins the flow (``demo/examples/tools-enabled``); this script only sends the message,
answers the tool calls, and gets the result.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any

import httpx

from noukai_sdk import ExecuteResult, RelayFlow

WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather"}}


def get_weather(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tool handler: one OpenAI-style tool message per call."""
    results: list[dict[str, Any]] = []
    for call in tool_calls:
        city = json.loads(call["function"]["arguments"])["city"]
        results.append({"role": "tool", "tool_call_id": call["id"], "content": f"sunny in {city}"})
    return results


@contextmanager
def local_relay() -> Generator[str, None, None]:
    """A dev server and the FastAPI relay of ``relay_fastapi.py`` on a free loopback port."""
    import uvicorn
    from relay_fastapi import create_app

    from noukai_sdk import AsyncNoukai
    from noukai_sdk.devserver.process import DevServerProcess

    with DevServerProcess(latency_ms=0) as dev:
        noukai = AsyncNoukai(dev.api_key, env="dev", dev_port=dev.port)
        server = uvicorn.Server(
            uvicorn.Config(create_app(noukai), host="127.0.0.1", port=0, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            threading.Event().wait(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}/agent/execute"
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def run(url: str) -> None:
    # The relay's authorize hook wants the app user's own credentials (not a Noukai key).
    with (
        httpx.Client(headers={"Authorization": "Bearer demo-user"}, timeout=60) as http,
        RelayFlow(url, client=http) as flow,
    ):
        result = flow.execute("Paris then Oslo", tools=[WEATHER_TOOL], tool_handler=get_weather)
    assert isinstance(result, ExecuteResult)
    print(f"status:       {result.status}")
    print(f"execution id: {result.execution_id}")
    print(f"output:       {result.output}")


def main() -> None:
    if len(sys.argv) > 1:
        run(sys.argv[1])
        return
    with local_relay() as url:
        run(url)


if __name__ == "__main__":
    # SIGTERM exits like Ctrl-C would: the `with` blocks run, so the dev server stops too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main()
