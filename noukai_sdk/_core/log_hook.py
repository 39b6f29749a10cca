"""The ``log_handler`` hook: structured events for every request, response and retry.

Events are plain dicts (one per request phase, plus ``retry``). Headers are never included, so the
API key cannot leak through them; bodies only with ``log_payloads=True``. A handler that raises
never breaks a request: the first failure is reported through :mod:`logging`, later ones are
swallowed silently.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

from noukai_sdk._core.errors import parse_body
from noukai_sdk._core.http_types import HttpRequest
from noukai_sdk._core.secrets import mask_bytes

LogHandler = Callable[[dict[str, Any]], object]

_logger = logging.getLogger("noukai_sdk.log_hook")


class LogHook:
    """Builds log events and delivers them to the user's handler, isolating its failures."""

    __slots__ = ("_handler", "_reported", "_secrets", "enabled", "payloads")

    def __init__(
        self,
        handler: LogHandler | None,
        *,
        payloads: bool = False,
        secrets: tuple[str, ...] = (),
    ) -> None:
        if handler is not None and not callable(handler):
            raise TypeError(
                f"log_handler must be a callable taking one dict, got {type(handler).__name__}"
            )
        self._handler = handler
        self.enabled = handler is not None
        """Whether a handler is set; request code checks it before building an event's fields."""
        self._reported = False
        self._secrets = tuple(s for s in secrets if s)
        self.payloads = payloads

    def request(self, request: HttpRequest, *, attempt: int) -> None:
        """A request attempt is about to be sent."""
        if self._handler is None:
            return
        event: dict[str, Any] = {
            "phase": "request",
            "method": request.method,
            "path": request.path,
            "attempt": attempt,
        }
        if request.streaming:
            event["streaming"] = True
        elif self.payloads and request.json is not None:
            # a copy: a handler that redacts the event in place must not change what is sent
            event["request_body"] = copy.deepcopy(request.json)
        self.emit(event)

    def response(
        self,
        request: HttpRequest,
        *,
        status_code: int,
        request_id: str | None,
        attempt: int,
        content: bytes | None = None,
    ) -> None:
        """Response headers (and, for JSON requests, the body) arrived for an attempt."""
        if self._handler is None:
            return
        event: dict[str, Any] = {
            "phase": "response",
            "method": request.method,
            "path": request.path,
            "status_code": status_code,
            "request_id": request_id,
            "attempt": attempt,
        }
        if request.streaming:
            event["streaming"] = True
        elif self.payloads:
            event["response_body"] = parse_body(self._masked(content)) if content else None
        self.emit(event)

    def retry(self, request: HttpRequest, *, attempt: int, delay: float, reason: str) -> None:
        """Attempt ``attempt`` failed with ``reason``; the next one follows after ``delay`` s."""
        if self._handler is None:
            return
        self.emit(
            {
                "phase": "retry",
                "method": request.method,
                "path": request.path,
                "attempt": attempt,
                "next_attempt": attempt + 1,
                "delay": delay,
                "reason": reason,
            }
        )

    def _masked(self, content: bytes) -> bytes:
        return mask_bytes(content, self._secrets)

    def emit(self, event: dict[str, Any]) -> None:
        """Deliver ``event``; a raising handler is reported once and otherwise ignored."""
        if self._handler is None:
            return
        try:
            self._handler(event)
        except Exception:
            if not self._reported:
                self._reported = True
                _logger.warning(
                    "noukai log_handler raised while handling a %r event; the request "
                    "continues and further handler errors are ignored",
                    event.get("phase"),
                    exc_info=True,
                )
