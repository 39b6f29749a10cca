"""A local, faithful Noukai API v1 server for quick starts, examples and integration tests.

Start it with ``noukai dev-server`` (or ``python -m noukai_sdk.devserver``); it serves
``http://127.0.0.1:8080/api/v1`` by default. Flows are YAML files (see this package's README);
state lives in SQLite. Needs the ``devserver`` extra (Starlette, uvicorn, PyYAML). Never imported
by ``import noukai_sdk``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from noukai_sdk.devserver._config import ServerConfig

if TYPE_CHECKING:
    from starlette.types import ASGIApp

__all__ = ["ServerConfig", "create_app", "serve"]


def create_app(config: ServerConfig | None = None) -> ASGIApp:
    """The dev server as an ASGI application (to mount or run under any ASGI server)."""
    from noukai_sdk.devserver._app import create_app as build

    return build(config or ServerConfig())


def serve(config: ServerConfig | None = None) -> int:
    """Run the dev server in this process until SIGINT/SIGTERM."""
    from noukai_sdk.devserver._server import serve as run

    return run(config or ServerConfig())
