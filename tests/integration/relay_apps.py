"""Serving relay apps for the relay tests: a real HTTP server thread per app, and the tool answers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from werkzeug.serving import make_server

WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather"}}


def city(call: dict[str, Any]) -> str:
    """The city a ``get_weather`` call asks about."""
    return str(json.loads(call["function"]["arguments"])["city"])


def openai_weather(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One OpenAI tool message per call, as the SDK sends them."""
    answers = ({"id": call["id"], "text": f"sunny in {city(call)}"} for call in calls)
    return [{"role": "tool", "tool_call_id": a["id"], "content": a["text"]} for a in answers]


@contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_wsgi(app: Any) -> Iterator[str]:
    """``app`` served by werkzeug (threaded) on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
