"""Run the dev server with uvicorn and announce, on one stdout line, when it accepts connections."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import sys
import threading
from collections.abc import Callable
from typing import Any, cast

from noukai_sdk.devserver._accounts import DEFAULT_API_KEY
from noukai_sdk.devserver._config import API_PREFIX, READY_MARKER, ServerConfig, is_loopback

# uvicorn waits this long for open requests after a stop; runs still inside a block this long
# before the end are interrupted, which leaves time to answer them (503, or the stream's end).
_GRACE_SECONDS = 3
_ANSWER_SECONDS = 0.5


def serve(config: ServerConfig) -> int:
    """Serve until SIGINT/SIGTERM; returns the process exit status."""
    if config.keys_file is None and not is_loopback(config.host):
        # Everyone knows the default key: beyond loopback it would let anyone on the network in.
        sys.stderr.write(
            f"noukai dev-server: refusing to listen on {config.host or 'every interface'} with "
            f"the well-known default key {DEFAULT_API_KEY}; pass --keys FILE with keys of your "
            "own to serve beyond loopback\n"
        )
        return 2
    if config.access_log:
        _log_access_to_stderr()
    return asyncio.run(_serve(config))


def _log_access_to_stderr() -> None:
    """One JSON object per request on stderr (the records are built by the app's middleware)."""
    import logging

    access = logging.getLogger("noukai_sdk.devserver.access")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False


async def _serve(config: ServerConfig) -> int:
    import uvicorn
    import yaml

    from noukai_sdk.devserver._app import create_app

    try:
        app = create_app(config)
    except (OSError, ValueError, sqlite3.Error, yaml.YAMLError) as exc:
        sys.stderr.write(f"noukai dev-server: {exc}\n")
        return 2
    listener = _bind(config.host, config.port)
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=_GRACE_SECONDS,
        )
    )
    devserver = cast(Any, app).state.devserver
    stop = _stop_on_signals(
        server,
        on_stop=lambda: devserver.begin_shutdown(grace_seconds=_GRACE_SECONDS - _ANSWER_SECONDS),
    )
    if config.stop_with_stdin:
        _stop_when_stdin_closes(server, stop)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        host = f"[{config.host}]" if ":" in config.host else config.host
        base_url = f"http://{host}:{port}{API_PREFIX}"
        print(f"{READY_MARKER} {base_url}", flush=True)
        if sys.stdout.isatty():
            print(_welcome(base_url, config), flush=True)
    await serving
    return 0 if server.started else 1


def _welcome(base_url: str, config: ServerConfig) -> str:
    """The line a person at a terminal reads (tools read the ready line above it)."""
    keys = (
        f"API key {DEFAULT_API_KEY}"
        if config.keys_file is None
        else f"API keys from {config.keys_file}"
    )
    return f"Noukai dev server running at {base_url} with {keys} (Ctrl-C to stop)"


def _stop_on_signals(server: Any, *, on_stop: Callable[[], None]) -> Callable[[], None]:
    """SIGINT/SIGTERM stop the server gracefully (a second one forces it) and exit with 0.

    uvicorn's own handlers re-raise the signal after shutting down, which makes a clean stop look
    like a kill to whoever started the process; ours just ask the server to exit, and tell the
    app (``on_stop``) so that it ends its open requests within the grace period.
    """
    server.capture_signals = contextlib.nullcontext
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True
        on_stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop)
    return stop


def _stop_when_stdin_closes(server: Any, stop: Callable[[], None]) -> None:
    """Stop gracefully once stdin reaches its end: a parent holding the other end of the pipe
    closes it when it exits, however it exits (even killed), so the server never outlives it."""
    loop = asyncio.get_running_loop()

    def stop_unless_stopping() -> None:
        if not server.should_exit:
            stop()

    def watch() -> None:
        # The bare descriptor, not sys.stdin: a daemon thread blocked inside a buffered reader
        # would abort the interpreter's shutdown.
        with contextlib.suppress(OSError, ValueError):
            descriptor = sys.stdin.fileno()
            while os.read(descriptor, 65536):
                pass
        with contextlib.suppress(RuntimeError):  # the loop may be gone already
            loop.call_soon_threadsafe(stop_unless_stopping)

    threading.Thread(target=watch, name="noukai-dev-server-stdin", daemon=True).start()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        sys.stderr.write(f"noukai dev-server: cannot listen on {host}:{port}: {exc}\n")
        raise SystemExit(2) from exc
    listener.set_inheritable(True)
    return listener
