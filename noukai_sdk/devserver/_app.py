"""The Starlette application: routes, error bodies, ``X-Request-ID``, and the job worker's life."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from noukai_sdk.devserver import _routes_flows, _routes_runs, _routes_sessions
from noukai_sdk.devserver._config import API_PREFIX, ServerConfig
from noukai_sdk.devserver._errors import ApiError
from noukai_sdk.devserver._http import error_response, json_response
from noukai_sdk.devserver._service import DevServer
from noukai_sdk.devserver._worker import run_jobs

_log = logging.getLogger("noukai_sdk.devserver")
access_log = logging.getLogger("noukai_sdk.devserver.access")
_FLOW = API_PREFIX + "/seq/{org}/{project}/{slug}"
_VERSIONED = _FLOW + "/v{version:int}"


def create_app(config: ServerConfig) -> ASGIApp:
    """The dev server as an ASGI app (opens the database and loads flows and keys now)."""
    server = DevServer(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncGenerator[None, None]:
        server.recover_after_stop()
        worker = asyncio.create_task(run_jobs(server))
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            server.store.close()

    routes = [
        Route("/healthz", _healthz, methods=["GET"]),
        Route(_FLOW + "/execute", _routes_flows.execute, methods=["POST"]),
        Route(_VERSIONED + "/execute", _routes_flows.execute, methods=["POST"]),
        Route(_FLOW + "/step", _routes_flows.step, methods=["POST"]),
        Route(_VERSIONED + "/step", _routes_flows.step, methods=["POST"]),
        Route(_FLOW + "/jobs", _routes_flows.submit_job, methods=["POST"]),
        Route(_VERSIONED + "/jobs", _routes_flows.submit_job, methods=["POST"]),
        Route(_FLOW + "/jobs/{execution_id}", _routes_runs.get_job, methods=["GET"]),
        Route(_FLOW + "/runs/{execution_id}/trace", _routes_runs.get_trace, methods=["GET"]),
        Route(
            _FLOW + "/runs/{execution_id}/steps/{step_id}/trace",
            _routes_runs.get_step_trace,
            methods=["GET"],
        ),
        Route(
            _FLOW + "/runs/{execution_id}/trace/stream", _routes_runs.stream_trace, methods=["GET"]
        ),
        Route(
            API_PREFIX + "/seq/sessions/{session_id}", _routes_sessions.get_session, methods=["GET"]
        ),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _crash,
        },
    )
    app.state.devserver = server
    return RequestIdMiddleware(app)


async def _healthz(request: Request) -> Response:
    return json_response({"status": "ok"})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "BAD_REQUEST")
    return error_response(ApiError(exc.status_code, code, str(exc.detail), dict(exc.headers or {})))


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client went away while sending its body: nobody reads the answer, nothing is logged."""
    return error_response(ApiError(400, "CLIENT_DISCONNECTED", "The request body was cut short."))


async def _crash(request: Request, exc: Exception) -> Response:
    _log.exception("unhandled error in %s %s", request.method, request.url.path)
    return error_response(ApiError(500, "INTERNAL_ERROR", f"The dev server failed: {exc}"))


class RequestIdMiddleware:
    """Adds ``X-Request-ID`` to every HTTP response (error pages and crashes included) and writes
    one structured access-log record (a JSON object) per request when the response ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: Any = getattr(app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req_{uuid.uuid4().hex}".encode()
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id)]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    json.dumps(
                        {
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                            "request_id": request_id.decode(),
                        }
                    )
                )
