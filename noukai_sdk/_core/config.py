"""Resolution of the client's settings (API key, environment, base URL, timeout, retries).

Runs once at client construction and performs no I/O, so configuration mistakes surface as
exceptions from the constructor rather than from the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from noukai_sdk._core.constants import (
    API_KEY_ENV,
    API_KEY_PREFIX,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    DEV_BASE_URL_TEMPLATE,
    DEV_DEFAULT_PORT,
    DEV_ENV_NAMES,
    DEV_PORT_ENV,
    ENV_ENV,
    PRODUCTION_BASE_URL,
)
from noukai_sdk._core.errors import AuthenticationError
from noukai_sdk._core.http_types import Timeout, TimeoutValue, is_timeout

Environment = Literal["dev", "production"]


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """The resolved settings one client talks to the API with."""

    api_key: str
    environment: Environment
    base_url: str
    timeout: TimeoutValue
    max_retries: int
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY

    def __repr__(self) -> str:
        return (
            f"ClientConfig(environment={self.environment!r}, base_url={self.base_url!r}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r})"
        )


def resolve_config(
    *,
    api_key: str | None,
    env: str | None,
    dev_port: int | None,
    timeout: TimeoutValue | None,
    max_retries: int | None,
    max_concurrency: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> ClientConfig:
    """Resolve key, environment, base URL, timeout and retries: arguments first, then variables."""
    environ = os.environ if environ is None else environ
    environment = resolve_environment(env, environ)
    return ClientConfig(
        api_key=resolve_api_key(api_key, environ),
        environment=environment,
        base_url=resolve_base_url(environment, dev_port, environ),
        timeout=DEFAULT_TIMEOUT if timeout is None else validate_timeout(timeout),
        max_retries=resolve_max_retries(max_retries),
        max_concurrency=resolve_max_concurrency(max_concurrency),
    )


def resolve_api_key(api_key: str | None, environ: Mapping[str, str]) -> str:
    """The argument if non-empty, else ``NOUKAI_API_KEY``; it must start with ``nk_``."""
    key = api_key or environ.get(API_KEY_ENV) or ""
    if not key:
        raise AuthenticationError("No API key provided. Pass api_key= or set NOUKAI_API_KEY.")
    if not key.startswith(API_KEY_PREFIX):
        raise AuthenticationError(f"Invalid API key prefix. Expected {API_KEY_PREFIX!r}.")
    if not (key.isascii() and key.isprintable()):
        raise AuthenticationError(
            "Invalid API key: it contains a control or non-ASCII character (a trailing newline "
            "from a file?), so it cannot be sent in the Authorization header."
        )
    return key


def resolve_environment(env: str | None, environ: Mapping[str, str]) -> Environment:
    """``env`` if given, else ``NOUKAI_ENV``; only ``dev``/``development`` select the dev server."""
    chosen = env or environ.get(ENV_ENV) or ""
    return "dev" if chosen in DEV_ENV_NAMES else "production"


def resolve_base_url(
    environment: Environment, dev_port: int | None, environ: Mapping[str, str]
) -> str:
    """Production host, or the loopback dev server on ``dev_port``/``NOUKAI_DEV_PORT`` (default 8080).

    The port override is honoured only for the dev environment: it can never send the key to a
    non-loopback host, and a stray ``NOUKAI_DEV_PORT`` is ignored in production.
    """
    if environment == "production":
        if dev_port is not None:
            raise ValueError("dev_port= only applies to env='dev' (the local dev server).")
        return PRODUCTION_BASE_URL
    port = dev_port if dev_port is not None else _port_from_env(environ)
    return DEV_BASE_URL_TEMPLATE.format(port=_validate_port(port))


def check_timeout(timeout: Timeout) -> Timeout:
    """A per-call ``timeout=``: ``None`` (the client default) or a valid timeout."""
    return None if timeout is None else validate_timeout(timeout)


def validate_timeout(timeout: TimeoutValue) -> TimeoutValue:
    """A timeout must be a positive number of seconds or an ``httpx.Timeout``/``httpx2.Timeout``."""
    if is_timeout(timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(
            "timeout must be a number of seconds or an httpx.Timeout / httpx2.Timeout, "
            f"got {timeout!r}"
        )
    if not timeout > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
    return float(timeout)


def resolve_max_retries(max_retries: object) -> int:
    """``None`` means the default (1); 0 disables retries; negatives are rejected."""
    if max_retries is None:
        return DEFAULT_MAX_RETRIES
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries must be a non-negative integer, got {max_retries!r}")
    return max_retries


def resolve_max_concurrency(max_concurrency: object) -> int:
    """``None`` means the default (64); otherwise a positive number of requests and streams."""
    if max_concurrency is None:
        return DEFAULT_MAX_CONCURRENCY
    if (
        isinstance(max_concurrency, bool)
        or not isinstance(max_concurrency, int)
        or max_concurrency < 1
    ):
        raise ValueError(f"max_concurrency must be a positive integer, got {max_concurrency!r}")
    return max_concurrency


def _port_from_env(environ: Mapping[str, str]) -> int:
    raw = environ.get(DEV_PORT_ENV)
    if not raw:
        return DEV_DEFAULT_PORT
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{DEV_PORT_ENV} must be a port number, got {raw!r}") from None


def _validate_port(port: object) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"dev port must be an integer between 1 and 65535, got {port!r}")
    return port
