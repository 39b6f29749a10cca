"""Unit tests never sleep for real, and do not pay for a TLS setup they never use.

The SDK's drivers sleep on a clock that skips the wait. It still reads real monotonic time plus
everything skipped, so a real I/O wait (a mocked slow response hitting a timeout) counts toward
deadlines as before, while retry backoffs and job polls take no time. ``fake_clock.sleeps`` lists
every skipped sleep in order.

Unit tests mock HTTP (respx, mock transports), so no TLS handshake ever happens; building a fresh
default SSL context for each of the thousand clients they create would be most of the suite's CPU
time. One default context is built and shared instead.

What ``import noukai_sdk`` loads can only be seen in a fresh interpreter; ``fresh_import`` starts
one for the whole run and every laziness check reads its answer.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
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


FRESH_IMPORT_SCRIPT = """
import json, sys
import noukai_sdk
seen = {"import": sorted(sys.modules)}
from noukai_sdk._core import output
seen["adapters_cached_after_import"] = output._cached_adapter.cache_info().currsize
noukai_sdk.Noukai("nk_x").flow("o/p/s")
seen["default_client"] = sorted(sys.modules)
noukai_sdk.RelayFlow
seen["relay_flow"] = sorted(sys.modules)
from noukai_sdk import ObjectStream, TextStream
seen["stream_helper_modules"] = [TextStream.__module__, ObjectStream.__module__]
print(json.dumps(seen))
"""


@pytest.fixture(scope="session")
def fresh_import() -> dict[str, Any]:
    """What a fresh interpreter loads at ``import noukai_sdk`` and at each first use after it.

    Import laziness can only be seen in a new process; one process, started once, answers every
    unit test that asks, instead of one interpreter start per test.
    """
    script = FRESH_IMPORT_SCRIPT
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    seen: dict[str, Any] = json.loads(done.stdout)
    return seen
