"""Relay routes: let keyless callers (a browser agent, ``RelayFlow``) run one pinned flow.

``mount_flow_relay`` adds the route to a Starlette/FastAPI app (with ``AsyncNoukai``);
``flow_relay_blueprint`` returns a Flask blueprint (with ``Noukai``). Each request is read under
a byte cap, parsed, cut down to the allowed fields within the message caps, authorised by your
``authorize`` hook (a falsy answer denies), a resume checked against the token the relay signed
into its paused reply, and forwarded with the client's key to the flow's ``/execute``; the caller
gets the upstream status and JSON body, plus ``X-Request-ID``. A valid inbound
``traceparent``/``tracestate`` is forwarded so one trace spans caller, relay and Noukai. The
relay itself logs nothing; the client's ``log_handler`` sees the upstream call as usual (keep
``log_payloads`` off on a relay client).
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from noukai_sdk._client import client_link
from noukai_sdk._core.paths import FlowAddress, Version, version_number
from noukai_sdk._relay._fields import relay_allow
from noukai_sdk._relay._hooks import wait_for
from noukai_sdk._relay._server import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_MESSAGES,
    DEFAULT_RELAY_PATH,
    INVALID_JSON,
    READ_CHUNK_BYTES,
    BodyReader,
    FlowRelay,
    RelayBounds,
    RelayRefused,
    RelayReply,
    check_registration,
)
from noukai_sdk._relay._tokens import (
    DEFAULT_RESUME_TTL,
    ResumeSigner,
    relay_secret,
    validate_resume_ttl,
)
from noukai_sdk._relay._trace_context import (
    TRACE_CONTEXT_HEADERS as TRACE_CONTEXT_HEADERS,  # importable, not in __all__ (as in 0.5.2)
)
from noukai_sdk._relay._trace_context import trace_context

if TYPE_CHECKING:
    from flask import Blueprint
    from flask.wrappers import Response as FlaskResponse
    from starlette.requests import Request
    from starlette.responses import Response

    from noukai_sdk._client import AsyncNoukai, Noukai

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_MESSAGES",
    "DEFAULT_RELAY_PATH",
    "DEFAULT_RESUME_TTL",
    "RelayBounds",
    "flow_relay_blueprint",
    "mount_flow_relay",
]


def mount_flow_relay(
    app: Any,
    *,
    client: AsyncNoukai,
    org: str,
    project: str,
    slug: str,
    path: str = DEFAULT_RELAY_PATH,
    authorize: Callable[[Request], Awaitable[object] | object],
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_messages: int = DEFAULT_MAX_MESSAGES,
    version: Version = "production",
    allow: Iterable[str] | None = None,
    secret: str | bytes | None = None,
    resume_ttl: float = DEFAULT_RESUME_TTL,
) -> None:
    """Add ``POST path`` to a Starlette/FastAPI ``app``, relaying to ``org/project/slug``.

    ``client`` is an ``AsyncNoukai`` holding the key. ``authorize(request)`` runs after the body
    checks and before forwarding; return a truthy value to allow, anything falsy (``False``,
    ``None``) answers 403, raising (e.g. ``HTTPException(403)``) reaches the framework. It may be
    a plain or an async function. Only ``message``/``messages`` (and a resume's own fields) are
    forwarded; ``allow`` opts into ``parameters``, ``blockOverrides``, ``tools``, ``toolChoice``,
    ``attachments``, ``trace`` (either spelling). ``secret`` signs resume tokens (pass the same
    one to every worker; default: a random one, good for one process); a token lasts
    ``resume_ttl`` seconds.
    ``version`` follows ``execute(version=...)``; everything is checked now.
    """
    try:
        from starlette.responses import Response
    except ImportError as exc:
        raise ImportError(
            "mount_flow_relay requires Starlette/FastAPI. Install with `pip install starlette` "
            "(or `pip install fastapi`)."
        ) from exc
    from noukai_sdk._client import AsyncNoukai

    check_registration(
        client, expected=AsyncNoukai, adapter="mount_flow_relay", authorize=authorize
    )
    relay = _flow_relay(
        org,
        project,
        slug,
        version,
        RelayBounds(max_body_bytes=max_body_bytes, max_messages=max_messages),
        allow=allow,
        secret=secret,
        ttl=resume_ttl,
    )

    def respond(reply: RelayReply) -> Response:
        return Response(
            reply.content(),
            status_code=reply.status_code,
            headers=dict(reply.headers),
            media_type="application/json",
        )

    async def relay_endpoint(request: Request) -> Response:
        try:
            body = relay.screen(await _read_starlette(request, relay.bounds))
            decision = authorize(request)
            if inspect.isawaitable(decision):
                decision = await decision
            relay.admit(body, decision)
        except RelayRefused as refused:
            return respond(refused.reply)
        link = client_link(client)
        return respond(
            await link.run(relay.forward(body, trace_context(request.headers), link.context))
        )

    app.add_route(path, relay_endpoint, methods=["POST"])


async def _read_starlette(request: Request, bounds: RelayBounds) -> bytes:
    reader = BodyReader(bounds.max_body_bytes)
    try:
        async for chunk in request.stream():
            reader.feed(chunk)
    except RelayRefused:
        raise
    except Exception:
        raise RelayRefused(INVALID_JSON) from None
    return reader.body()


def flow_relay_blueprint(
    *,
    client: Noukai,
    org: str,
    project: str,
    slug: str,
    path: str = DEFAULT_RELAY_PATH,
    authorize: Callable[[Any], Awaitable[object] | object],
    bounds: RelayBounds | None = None,
    version: Version = "production",
    allow: Iterable[str] | None = None,
    secret: str | bytes | None = None,
    resume_ttl: float = DEFAULT_RESUME_TTL,
) -> Blueprint:
    """A Flask blueprint with ``POST path`` relaying to ``org/project/slug``; register it on the app.

    ``client`` is a ``Noukai`` holding the key. ``authorize(request)`` runs after the body checks:
    a truthy return allows, a falsy one answers 403, raising (e.g. ``abort(403)``) reaches Flask;
    an async hook is run to completion on an event loop of its own. ``allow``, ``secret`` and
    ``resume_ttl`` are as for :func:`mount_flow_relay`. The blueprint is named after the flow and
    path, so one app can hold several relays.
    """
    try:
        from flask import Blueprint, Response, request
    except ImportError as exc:
        raise ImportError(
            "flow_relay_blueprint requires Flask. Install with `pip install flask`."
        ) from exc
    from noukai_sdk._client import Noukai

    check_registration(client, expected=Noukai, adapter="flow_relay_blueprint", authorize=authorize)
    relay = _flow_relay(
        org,
        project,
        slug,
        version,
        bounds or RelayBounds(),
        allow=allow,
        secret=secret,
        ttl=resume_ttl,
    )

    def respond(reply: RelayReply) -> FlaskResponse:
        return Response(
            reply.content(),
            status=reply.status_code,
            headers=dict(reply.headers),
            mimetype="application/json",
        )

    def relay_view() -> FlaskResponse:
        try:
            body = relay.screen(_read_flask(request.stream, relay.bounds))
            decision = authorize(request)
            if inspect.isawaitable(decision):
                decision = wait_for(decision)
            relay.admit(body, decision)
        except RelayRefused as refused:
            return respond(refused.reply)
        link = client_link(client)
        return respond(link.run(relay.forward(body, trace_context(request.headers), link.context)))

    blueprint = Blueprint(blueprint_name(org, project, slug, path), __name__)
    blueprint.add_url_rule(path, endpoint="execute", view_func=relay_view, methods=["POST"])
    return blueprint


def _flow_relay(
    org: str,
    project: str,
    slug: str,
    version: Version,
    bounds: RelayBounds,
    *,
    allow: Iterable[str] | None,
    secret: str | bytes | None,
    ttl: float,
) -> FlowRelay:
    address = FlowAddress(org, project, slug)
    number = version_number(version)
    route = json.dumps([org, project, slug, number])  # tokens are valid on this flow only
    signer = ResumeSigner(relay_secret(secret), route, validate_resume_ttl(ttl))
    return FlowRelay(address, number, bounds, relay_allow(allow), signer)


def blueprint_name(org: str, project: str, slug: str, path: str) -> str:
    """``noukai_flow_relay_<org>_<project>_<slug>_<path>``, non-alphanumerics as ``_``."""
    return "noukai_flow_relay_" + re.sub(r"[^A-Za-z0-9]", "_", f"{org}_{project}_{slug}_{path}")


def _read_flask(stream: Any, bounds: RelayBounds) -> bytes:
    reader = BodyReader(bounds.max_body_bytes)
    try:
        while chunk := stream.read(READ_CHUNK_BYTES):
            reader.feed(chunk)
    except RelayRefused:
        raise
    except Exception:
        raise RelayRefused(INVALID_JSON) from None
    return reader.body()
