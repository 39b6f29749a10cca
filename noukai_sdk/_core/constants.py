"""Fixed values of the Noukai API v1 contract and of the SDK's defaults, named once."""

from __future__ import annotations

from typing import Final

PRODUCTION_BASE_URL: Final = "https://api.noukai.dev/api/v1"
DEV_HOST: Final = "localhost"
DEV_DEFAULT_PORT: Final = 8080
DEV_ENV_NAMES: Final = frozenset({"dev", "development"})

API_KEY_ENV: Final = "NOUKAI_API_KEY"
ENV_ENV: Final = "NOUKAI_ENV"
DEV_PORT_ENV: Final = "NOUKAI_DEV_PORT"
API_KEY_PREFIX: Final = "nk_"

API_VERSION: Final = "2026-05-31"
API_VERSION_HEADER: Final = "X-Noukai-API-Version"
SESSION_ID_HEADER: Final = "X-Session-Id"
REQUEST_ID_HEADER: Final = "x-request-id"

RESERVED_HEADERS: Final = frozenset(
    {
        "authorization",
        "x-noukai-api-version",
        "user-agent",
        "x-request-id",
        "content-type",
        "cookie",
    }
)
"""Per-request headers that can never override the SDK's own (compared lower-cased)."""

DEFAULT_TIMEOUT: Final = 300.0
DEFAULT_MAX_RETRIES: Final = 1
RETRY_BASE_DELAY: Final = 0.5
RETRY_MAX_DELAY: Final = 8.0
RETRY_JITTER: Final = 0.25
RETRY_AFTER_MAX: Final = 60.0
"""The longest ``Retry-After`` on a retried 408/5xx that is waited for instead of the backoff."""
RETRYABLE_GET_STATUSES: Final = frozenset({408, 500, 502, 503, 504})

DEFAULT_MAX_TOOL_ROUNDS: Final = 10
TOOL_HISTORY_SOFT_LIMIT: Final = 200
MESSAGES_WARN_BYTES: Final = 900_000
MESSAGES_MAX_BYTES: Final = 1_000_000
ALLOWED_MESSAGE_ROLES: Final = ("user", "assistant", "tool")

JOB_WAIT_TIMEOUT: Final = 300.0
JOB_POLL_INTERVAL: Final = 2.0
JOB_NOT_FOUND_GRACE: Final = 5.0
JOB_TERMINAL_STATUSES: Final = frozenset({"completed", "failed", "cancelled"})
