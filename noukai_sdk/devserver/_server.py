"""Run the dev server with uvicorn and announce, on one stdout line, when it accepts connections."""

from __future__ import annotations

import asyncio
import socket
import sys

from noukai_sdk.devserver._config import API_PREFIX, READY_MARKER, ServerConfig


def serve(config: ServerConfig) -> int:
    """Serve until SIGINT/SIGTERM; returns the process exit status."""
    return asyncio.run(_serve(config))


async def _serve(config: ServerConfig) -> int:
    import uvicorn

    from noukai_sdk.devserver._app import create_app

    listener = _bind(config.host, config.port)
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), log_level="warning", access_log=False, lifespan="on")
    )
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        host = f"[{config.host}]" if ":" in config.host else config.host
        print(f"{READY_MARKER} http://{host}:{port}{API_PREFIX}", flush=True)
    await serving
    return 0 if server.started else 1


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        sys.stderr.write(f"noukai dev-server: cannot listen on {host}:{port}: {exc}\n")
        raise SystemExit(2) from exc
    listener.set_inheritable(True)
    return listener
