"""Black-box checks of edge cases: session-id header safety, 0.2.0 call forms, streams' errors and
log events, job polling windows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from client_helpers import KEY, resolve
from wire_double import COMPLETED, JOB_STARTED, KINDS, Wire, collect

from noukai_sdk import (
    AsyncNoukai,
    AuthenticationError,
    Noukai,
    RateLimitError,
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", ["é", "a\nb", "a\r\nX-Evil: 1", "nul\x00"])
def test_a_session_id_that_cannot_be_a_header_is_refused_before_any_request(
    kind: str, bad: str
) -> None:
    wire = Wire(httpx.Response(200, json=COMPLETED))
    flow = wire.client(kind).flow("o/p/s")
    with pytest.raises(ValueError, match="X-Session-Id"):
        resolve(flow.execute("hi", session_id=bad))
    with pytest.raises(ValueError, match="X-Session-Id"):
        resolve(flow.execute_async("hi", session_id=bad))
    with pytest.raises(ValueError, match="X-Session-Id"):
        collect(kind, flow.events("hi", session_id=bad))
    assert not wire.requests


def test_a_client_default_session_id_is_checked_at_construction() -> None:
    with pytest.raises(ValueError, match="X-Session-Id"):
        Noukai(KEY, session_id="line\nbreak")
    with pytest.raises(TypeError):
        AsyncNoukai(KEY, session_id=5)  # type: ignore[arg-type]
    assert Noukai(KEY, session_id="").session_id == ""
    assert Noukai(KEY, session_id="a b\tc").session_id == "a b\tc"


@pytest.mark.parametrize("kind", KINDS)
def test_positional_timeouts_of_the_0_2_0_signatures(kind: str) -> None:
    step = {"stepId": "s", "attempt": 2, "status": "completed"}
    trace: dict[str, Any] = {
        "flowRun": {"id": "r", "flowId": "f", "status": "completed"},
        "steps": [],
    }
    wire = Wire(
        httpx.Response(200, json=trace),
        httpx.Response(200, json=step),
        httpx.Response(202, json=JOB_STARTED),
        httpx.Response(200, json={"executionId": "job-1", "status": "completed"}),
    )
    flow = wire.client(kind).flow("o/p/s")
    handle = flow.run("e")
    assert resolve(handle.trace(5.0)).flow_run.id == "r"
    assert resolve(handle.step_trace("s", 2, 1, 4.0)).attempt == 2
    job = resolve(flow.execute_async("hi"))
    assert resolve(job.poll(3.0)).status == "completed"
    assert resolve(job.wait(2.0, 0.01)).status == "completed"
    timeouts = [r.extensions["timeout"]["read"] for r in wire.requests[:4]]
    assert timeouts[:2] == [5.0, 4.0]
    assert timeouts[3] == 3.0
    assert str(wire.requests[1].url).endswith("/runs/e/steps/s/trace?attempt=2&loop_index=1")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", [0, -1, "5", True])
def test_per_call_timeouts_are_validated(kind: str, bad: Any) -> None:
    wire = Wire(httpx.Response(200, json=COMPLETED))
    flow = wire.client(kind).flow("o/p/s")
    with pytest.raises((ValueError, TypeError)):
        resolve(flow.execute("hi", timeout=bad))
    with pytest.raises((ValueError, TypeError)):
        resolve(flow.run("e").trace(timeout=bad))
    assert not wire.requests


@pytest.mark.parametrize("kind", KINDS)
def test_stream_401_and_429_carry_their_header_attributes(kind: str) -> None:
    wire = Wire(
        httpx.Response(
            401, json={"detail": "no"}, headers={"WWW-Authenticate": "Bearer", "X-Request-ID": "q1"}
        ),
        httpx.Response(429, json={"detail": "slow"}, headers={"Retry-After": "7"}),
    )
    flow = wire.client(kind).flow("o/p/s")
    with pytest.raises(AuthenticationError) as auth:
        collect(kind, flow.events("hi"))
    assert (auth.value.status_code, auth.value.www_authenticate) == (401, "Bearer")
    assert auth.value.request_id == "q1" and str(auth.value) == "no"
    with pytest.raises(RateLimitError) as limited:
        collect(kind, flow.run("e").live_trace())
    assert limited.value.retry_after == 7.0
    assert len(wire.requests) == 2  # streams are never retried


def _utf16(text: str) -> bytes:
    return text.encode("utf-16")


def _with_bom(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.encode()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("encode", [_utf16, _with_bom])
def test_json_bodies_in_other_unicode_encodings_are_read_everywhere(
    kind: str, encode: Callable[[str], bytes]
) -> None:
    status = json.dumps({"executionId": "job-1", "status": "completed", "result": "ü"})
    wire = Wire(
        httpx.Response(202, content=encode(json.dumps(JOB_STARTED))),
        httpx.Response(200, content=encode(status)),
    )
    job = resolve(wire.client(kind).flow("o/p/s").execute_async("hi"))
    assert resolve(job.poll()).result == "ü"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("argument", ["attachments", "tools"])
def test_a_single_dict_where_a_list_belongs_is_refused(kind: str, argument: str) -> None:
    wire = Wire(httpx.Response(200, json=COMPLETED))
    flow = wire.client(kind).flow("o/p/s")
    with pytest.raises(TypeError, match=argument):
        resolve(flow.execute("hi", **{argument: {"url": "https://x/a.png"}}))
    assert not wire.requests
