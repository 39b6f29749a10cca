"""The retry policy: which failures are retried, and how long to wait in between.

Pure decisions, no I/O: :mod:`noukai_sdk._core.requesting` asks the policy and yields a ``Sleep``
effect, so the same policy serves the sync and async clients and tests can pin the jitter.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from noukai_sdk._core.constants import (
    DEFAULT_MAX_RETRIES,
    RETRY_AFTER_MAX,
    RETRY_BASE_DELAY,
    RETRY_JITTER,
    RETRY_MAX_DELAY,
    RETRYABLE_GET_STATUSES,
)
from noukai_sdk._core.errors import APIConnectionError
from noukai_sdk._core.http_types import HttpRequest


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_retries`` retries after the first attempt; 0 disables retrying.

    GETs are retried on 408/500/502/503/504, connection errors and timeouts. POSTs are retried
    only when the request provably never reached the server (connect failures), because a
    repeated ``execute`` could run (and bill) a flow twice. 429 is never retried.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    base_delay: float = RETRY_BASE_DELAY
    max_delay: float = RETRY_MAX_DELAY
    jitter: float = RETRY_JITTER
    max_retry_after: float = RETRY_AFTER_MAX
    random: Callable[[], float] = field(default=random.random, repr=False)

    def retries_status(self, request: HttpRequest, status_code: int, *, attempt: int) -> bool:
        """Whether a response with ``status_code`` to attempt ``attempt`` (0-based) is retried."""
        return (
            attempt < self.max_retries
            and request.idempotent
            and status_code in RETRYABLE_GET_STATUSES
        )

    def retries_error(
        self, request: HttpRequest, error: APIConnectionError, *, attempt: int
    ) -> bool:
        """Whether a connection failure or timeout of attempt ``attempt`` is retried."""
        if attempt >= self.max_retries:
            return False
        return request.idempotent or not error.reached_server

    def delay_after(self, attempt: int, headers: Mapping[str, str]) -> float:
        """The wait after a retryable status: the backoff, or longer when ``Retry-After`` asks.

        The server's ``Retry-After`` is honoured up to ``max_retry_after`` seconds (a longer
        or unreadable value falls back to the backoff), so a hostile header cannot stall a call.
        """
        backoff = self.delay(attempt)
        asked = parse_retry_after(headers)
        if asked is None or asked > self.max_retry_after:
            return backoff
        return max(backoff, asked)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt``: 0.5 s doubling, capped, ±jitter."""
        nominal = min(self.max_delay, self.base_delay * 2.0 ** min(attempt, 64))
        return nominal * (1.0 + self.jitter * (2.0 * self.random() - 1.0))


def parse_retry_after(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds to wait per ``retry-after-ms``, or ``Retry-After`` as seconds or an HTTP date.

    ``headers`` are lower-cased. Unparseable or negative values give ``None``.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        value = _non_negative_float(millis)
        if value is not None:
            return value / 1000.0
    raw = headers.get("retry-after")
    if raw is None:
        return None
    seconds = _non_negative_float(raw)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now())


def _non_negative_float(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if value != value or value < 0 or value == float("inf"):
        return None
    return value
