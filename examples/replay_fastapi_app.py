"""A FastAPI app whose Noukai calls are captured per request and replayable by header.

Needs ``pip install 'noukai-sdk[devserver,fastapi]'`` (from a clone: ``pip install -e '.[devserver,fastapi]'``).

    python examples/replay_fastapi_app.py

The script starts a dev server, sends one live request to the app (in-process, through
httpx's ASGI transport) and prints the ``X-Noukai-Session`` it got back; then it sends the same
request with ``X-Noukai-Replay: <that id>`` and shows the answer is served from the recording.
In a real deployment you run the app with uvicorn and leave ``NOUKAI_REPLAY_ENABLED`` unset in
production: the replay header is then ignored.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import httpx
from fastapi import FastAPI

from noukai_sdk import AsyncNoukai, ExecuteResult
from noukai_sdk.adapters.fastapi import NoukaiTraceMiddleware
from noukai_sdk.devserver.process import DevServerProcess


def create_app(noukai: AsyncNoukai) -> FastAPI:
    app = FastAPI()
    app.add_middleware(NoukaiTraceMiddleware, client=noukai, exclude_paths=["/health"])

    @app.get("/summary")
    async def summary(text: str) -> dict[str, object]:
        result = await noukai.flow("demo/examples/two-step").execute(text)
        assert isinstance(result, ExecuteResult), "two-step never pauses for tools"
        return {"summary": result.output}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def main() -> None:
    os.environ["NOUKAI_REPLAY_ENABLED"] = "1"  # a test environment: honour X-Noukai-Replay
    with DevServerProcess(latency_ms=0) as server:
        async with (
            AsyncNoukai(server.api_key, env="dev", dev_port=server.port) as noukai,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(noukai)), base_url="http://app"
            ) as http,
        ):
            live = await http.get("/summary", params={"text": "The quick brown fox"})
            session_id = live.headers["X-Noukai-Session"]
            print(f"live:     {live.json()}  (session {session_id})")
            replayed = await http.get(
                "/summary", params={"text": "ignored"}, headers={"X-Noukai-Replay": session_id}
            )
            print(f"replayed: {replayed.json()}  (same: {replayed.json() == live.json()})")


if __name__ == "__main__":
    # SIGTERM exits like Ctrl-C would: the `with` blocks run, so the dev server stops too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    asyncio.run(main())
