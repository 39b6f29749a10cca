"""Unit tests never sleep for real, and do not pay for a TLS setup they never use.

The SDK's drivers sleep on a clock that skips the wait. It still reads real monotonic time plus
everything skipped, so a real I/O wait (a mocked slow response hitting a timeout) counts toward
deadlines as before, while retry backoffs and job polls take no time. ``fake_clock.sleeps`` lists
every skipped sleep in order.

Unit tests mock HTTP (respx, mock transports), so no TLS handshake ever happens; building a fresh
default SSL context for each of the thousand clients they create would be most of the suite's CPU
time. One default context is built and shared instead.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx._transports.default as httpx_default_transport
import pytest
from client_helpers import SkippingClock, clock_in_use


@pytest.fixture(autouse=True)
def fake_clock() -> Iterator[SkippingClock]:
    with clock_in_use(SkippingClock()) as clock:
        yield clock


@pytest.fixture(autouse=True, scope="session")
def shared_default_ssl_context() -> Iterator[None]:
    build = httpx_default_transport.create_ssl_context
    shared: list[ssl.SSLContext] = []

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is not True or cert is not None or not trust_env:
            return build(verify=verify, cert=cert, trust_env=trust_env)
        if not shared:
            shared.append(build(verify=verify, cert=cert, trust_env=trust_env))
        return shared[0]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx_default_transport, "create_ssl_context", create_ssl_context)
        yield
