"""Fixed values of the Noukai API v1 contract and of the SDK's defaults, named once.

Contract values (base URLs, the API version pin, header names, the key prefix) come from the
generated ``noukai_sdk_generated.constants``, so openapi.yaml stays their only source; this module
holds what the spec does not say: environment variable names, defaults and limits of the SDK.
"""

from __future__ import annotations

from typing import Final

from noukai_sdk_generated.constants import API_KEY_PREFIX as API_KEY_PREFIX
from noukai_sdk_generated.constants import API_VERSION as API_VERSION
from noukai_sdk_generated.constants import API_VERSION_HEADER as API_VERSION_HEADER
from noukai_sdk_generated.constants import DEV_BASE_URL_TEMPLATE as DEV_BASE_URL_TEMPLATE
from noukai_sdk_generated.constants import DEV_DEFAULT_PORT as DEV_DEFAULT_PORT
from noukai_sdk_generated.constants import DEV_HOST as DEV_HOST
from noukai_sdk_generated.constants import PRODUCTION_BASE_URL as PRODUCTION_BASE_URL
from noukai_sdk_generated.constants import REQUEST_ID_HEADER as REQUEST_ID_HEADER
from noukai_sdk_generated.constants import RETRY_AFTER_HEADER as RETRY_AFTER_HEADER
from noukai_sdk_generated.constants import SESSION_ID_HEADER as SESSION_ID_HEADER

DEV_ENV_NAMES: Final = frozenset({"dev", "development"})

API_KEY_ENV: Final = "NOUKAI_API_KEY"
ENV_ENV: Final = "NOUKAI_ENV"
DEV_PORT_ENV: Final = "NOUKAI_DEV_PORT"

RESERVED_HEADERS: Final = frozenset(
    {
        "authorization",
        API_VERSION_HEADER.lower(),
        "user-agent",
        REQUEST_ID_HEADER.lower(),
        "content-type",
        "cookie",
    }
)
"""Per-request headers that can never override the SDK's own (compared lower-cased)."""

DEFAULT_TIMEOUT: Final = 300.0
DEFAULT_MAX_RETRIES: Final = 1
DEFAULT_MAX_CONCURRENCY: Final = 64
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
