"""API keys, what they may access, their credits and their request limits.

The keys file (``--keys``) is YAML::

    keys:
      nk_dev_local:
        projects: ["*"]            # "org/project" entries, or "*" for every project
        credits_usd: "1000"        # starting balance; each run is charged by its tokens
        max_concurrency: 16        # requests in flight at once
        requests_per_minute: 6000

Without a keys file the server knows two keys: ``nk_dev_local`` with the values above, and
``nk_dev_no_credits``, the same with a zero balance (for trying the 402 path).

Keys are known, looked up and stored only as their SHA-256 digest (:func:`key_hash`): the database
and the run state never hold a key in clear.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from noukai_sdk.devserver._errors import ApiError

DEFAULT_API_KEY = "nk_dev_local"
NO_CREDITS_API_KEY = "nk_dev_no_credits"
_RATE_WINDOW_SECONDS = 60.0
_WWW_AUTHENTICATE = 'Bearer realm="noukai"'


def key_hash(key: str) -> str:
    """The SHA-256 hex digest of an API key: how the server identifies, stores and finds it."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One API key (by its :func:`key_hash`) and its allowances."""

    key_hash: str
    projects: tuple[str, ...] = ("*",)
    credits_usd: Decimal = Decimal("1000")
    max_concurrency: int = 16
    requests_per_minute: int = 6000

    def can_access(self, project_key: str) -> bool:
        return "*" in self.projects or project_key in self.projects


@dataclass
class _Usage:
    in_flight: int = 0
    recent: deque[float] = field(default_factory=lambda: deque[float]())


class Accounts:
    """Checks requests against the known keys, in the contract's order (401, 403, then 429)."""

    def __init__(self, keys: Mapping[str, KeySpec]) -> None:
        """``keys`` maps each key's :func:`key_hash` to its allowances."""
        self._keys = dict(keys)
        self._usage: dict[str, _Usage] = {}

    @classmethod
    def from_file(cls, path: Path | None) -> Accounts:
        if path is None:
            default, no_credits = key_hash(DEFAULT_API_KEY), key_hash(NO_CREDITS_API_KEY)
            return cls(
                {
                    default: KeySpec(default),
                    no_credits: KeySpec(no_credits, credits_usd=Decimal(0)),
                }
            )
        import yaml

        with path.open(encoding="utf-8") as handle:
            document: Any = yaml.safe_load(handle)
        entries: Any = (
            cast(dict[str, Any], document).get("keys") if isinstance(document, dict) else None
        )
        if not isinstance(entries, dict) or not entries:
            raise ValueError(f"{path}: expected a mapping `keys: {{<key>: {{...}}}}`")
        keys: dict[str, KeySpec] = {}
        for key, raw in cast(dict[str, Any], entries).items():
            settings: dict[str, Any] = cast(dict[str, Any], raw) if isinstance(raw, dict) else {}
            digest = key_hash(str(key))
            keys[digest] = KeySpec(
                key_hash=digest,
                projects=tuple(str(p) for p in settings.get("projects", ["*"])),
                credits_usd=Decimal(str(settings.get("credits_usd", "1000"))),
                max_concurrency=int(settings.get("max_concurrency", 16)),
                requests_per_minute=int(settings.get("requests_per_minute", 6000)),
            )
        return cls(keys)

    def authenticate(self, authorization: str | None) -> KeySpec:
        """The key named by an ``Authorization: Bearer <key>`` header, else 401."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "UNAUTHENTICATED",
                "Missing API key: send `Authorization: Bearer nk_...`.",
                {"WWW-Authenticate": _WWW_AUTHENTICATE},
            )
        spec = self._keys.get(key_hash(token.strip()))
        if spec is None:
            raise ApiError(
                401,
                "UNAUTHENTICATED",
                "Invalid API key.",
                {"WWW-Authenticate": f'{_WWW_AUTHENTICATE}, error="invalid_token"'},
            )
        return spec

    def find(self, digest: str) -> KeySpec | None:
        """The key whose :func:`key_hash` is ``digest``."""
        return self._keys.get(digest)

    @staticmethod
    def authorize(spec: KeySpec, project_key: str) -> None:
        if not spec.can_access(project_key):
            raise ApiError(
                403, "FORBIDDEN", f"This API key has no access to the project '{project_key}'."
            )

    def acquire(self, spec: KeySpec) -> None:
        """Take one of the key's concurrency slots and count the request, else 429."""
        usage = self._usage.setdefault(spec.key_hash, _Usage())
        now = time.monotonic()
        while usage.recent and usage.recent[0] <= now - _RATE_WINDOW_SECONDS:
            usage.recent.popleft()
        if len(usage.recent) >= spec.requests_per_minute:
            retry_after = math.ceil(usage.recent[0] + _RATE_WINDOW_SECONDS - now)
            raise ApiError(
                429,
                "RATE_LIMIT",
                f"Rate limit of {spec.requests_per_minute} requests per minute exceeded.",
                {"Retry-After": str(max(1, retry_after))},
            )
        if usage.in_flight >= spec.max_concurrency:
            raise ApiError(
                429,
                "RATE_LIMIT",
                f"Concurrency limit of {spec.max_concurrency} requests in flight exceeded.",
                {"Retry-After": "1"},
            )
        usage.recent.append(now)
        usage.in_flight += 1

    def release(self, spec: KeySpec) -> None:
        self._usage[spec.key_hash].in_flight -= 1
