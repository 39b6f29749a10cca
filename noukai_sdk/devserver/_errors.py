"""The one exception type the dev server raises to answer a request with an API error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class ApiError(Exception):
    """An error answer: HTTP ``status``, the contract's error ``code`` and a human ``message``."""

    status: int
    code: str
    message: str
    headers: Mapping[str, str] = field(default_factory=lambda: {})

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class RunFailure(Exception):
    """A block failed while running; the run ends as ``failed`` with this code and message."""

    def __init__(self, code: str, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status


class ServerStopping(ApiError):
    """The server is shutting down and stopped a run mid-step (answered as 503 when it still can)."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "SERVICE_UNAVAILABLE",
            "The dev server is shutting down and stopped this run mid-step.",
            {"Retry-After": "1"},
        )
