"""Fault injection on the dev server: bad bodies, races, disconnects, shutdown and restart.

Every refusal is a typed error body (``{"detail": {"code", "message"}}``) with ``X-Request-ID``;
nothing answers 500, nothing hangs, and nothing written before a stop is lost.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import TEST_KEYS, DevServerProcess, parse_sse, write_server_files

EXECUTE = "seq/demo/examples/hello-world/execute"
STEP = "seq/demo/examples/two-step/step"
JOBS = "seq/demo/examples/hello-world/jobs"
SLOW_STEP = "seq/demo/examples/slow/step"


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"]
    detail: dict[str, Any] = response.json()["detail"]
    assert detail["code"] == code, detail
    assert "Traceback" not in detail["message"]
    return detail


def nested(depth: int) -> bytes:
    return b'{"message": "x", "parameters": {"a": ' + b"[" * depth + b"]" * depth + b"}}"


@pytest.mark.parametrize("path", [EXECUTE, STEP, JOBS])
@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"message": "\xff\xfe"}',
        b'{"message": "x", "parameters": {"a": NaN}}',
        b'{"message": "x", "parameters": {"a": Infinity}}',
        nested(100_000),
        nested(300),
        b'{"message": "x", "parameters": {"a": ' + b"9" * 5000 + b"}}",
    ],
    ids=["syntax", "utf8", "nan", "infinity", "very-deep", "deeper-than-200", "huge-int"],
)
def test_malformed_json_is_a_400_invalid_json(http: httpx.Client, path: str, body: bytes) -> None:
    response = http.post(path, content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400, "INVALID_JSON")


def test_moderately_nested_parameters_still_run(http: httpx.Client, step: Any) -> None:
    response = http.post(EXECUTE, content=nested(150))
    assert response.status_code == 200, response.text
    status, events = step(STEP, {"stepIndex": 0, **json.loads(nested(150))})
    assert status == 200 and events[-1][0] == "step_paused", events


@pytest.mark.parametrize("path", [EXECUTE, STEP, JOBS])
@pytest.mark.parametrize("body", [b"[1, 2]", b"null", b'"text"', b"5"])
def test_a_body_that_is_not_an_object_is_a_422(http: httpx.Client, path: str, body: bytes) -> None:
    assert_error(http.post(path, content=body), 422, "INVALID_REQUEST")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (EXECUTE, {"message": 5}, "message"),
        (EXECUTE, {"message": "x", "parameters": "nope"}, "parameters"),
        (EXECUTE, {"message": "x", "iterationsUsed": "a"}, "iterationsUsed"),
        (EXECUTE, {"message": "x", "blockOverrides": {"answer": "str"}}, "blockOverrides"),
        (EXECUTE, {"message": "x", "attachments": "nope"}, "attachments"),
        (EXECUTE, {"message": "x", "tools": {"a": 1}}, "tools"),
        (EXECUTE, {"message": "x", "toolChoice": 5}, "toolChoice"),
        (EXECUTE, {"executionId": "e", "toolCallMessages": [5]}, "toolCallMessages"),
        (STEP, {"stepIndex": "x"}, "stepIndex"),
        (STEP, {"message": "x", "stepIndex": 0, "inputOverrides": [1]}, "inputOverrides"),
        (STEP, {"message": "x", "stepIndex": 0, "runRemaining": "maybe"}, "runRemaining"),
        (JOBS, {"message": "x", "trace": "yes please"}, "trace"),
    ],
)
def test_wrong_types_are_a_422_naming_the_field(
    http: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    detail = assert_error(http.post(path, json=body), 422, "INVALID_REQUEST")
    assert field in detail["message"]


def test_unknown_fields_are_ignored(http: httpx.Client) -> None:
    response = http.post(EXECUTE, json={"message": "x", "someFutureField": {"a": 1}})
    assert response.status_code == 200
    assert response.json()["result"] == "Hello! You said: x"


@pytest.mark.parametrize("path", [EXECUTE, STEP, JOBS])
def test_a_huge_body_is_a_413_not_a_reset_connection(http: httpx.Client, path: str) -> None:
    body = {"message": "x" * (11 * 1024 * 1024), "stepIndex": 0}
    assert_error(http.post(path, json=body), 413, "PAYLOAD_TOO_LARGE")
    assert http.post(EXECUTE, json={"message": "still here"}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [{"attempt": "²"}, {"attempt": "0"}, {"attempt": "9" * 5000}, {"loop_index": "9" * 5000}],
    ids=["unicode-digit", "zero", "huge-attempt", "huge-loop-index"],
)
def test_bad_step_trace_queries_are_a_400(http: httpx.Client, query: dict[str, str]) -> None:
    run = http.post(EXECUTE, json={"message": "q"}).json()["executionId"]
    response = http.get(
        f"seq/demo/examples/hello-world/runs/{run}/steps/answer/trace", params=query
    )
    assert_error(response, 400, "BAD_REQUEST")


class OpenStep:
    """A /step stream read up to its ``run_started`` frame and kept open."""

    def __init__(self, base_url: str, headers: dict[str, str], body: dict[str, Any]) -> None:
        self.client = httpx.Client(base_url=base_url + "/", headers=headers, timeout=30)
        self.response = self.client.send(
            self.client.build_request("POST", SLOW_STEP, json=body), stream=True
        )
        assert self.response.status_code == 200
        # Keep the line iterator referenced: closing it would close the connection.
        self.lines = self.response.iter_lines()
        for line in self.lines:
            if line.startswith("data: ") and '"run_started"' in line:
                self.execution_id: str = json.loads(line[6:])["executionId"]
                return
        raise AssertionError("no run_started frame")

    def rest(self) -> str:
        return "\n".join(self.lines)

    def close(self) -> None:
        self.response.close()
        self.client.close()


def test_a_second_step_on_a_running_execution_is_409_then_the_cursor_moves_on(
    dev_server: DevServerProcess, http: httpx.Client
) -> None:
    body = {"message": "race", "stepIndex": 0, "parameters": {"delay_ms": 600}}
    first = OpenStep(dev_server.base_url, dev_server.headers(), body)
    execution_id = first.execution_id
    try:
        racing = http.post(SLOW_STEP, json={"executionId": execution_id, "stepIndex": 0})
        assert_error(racing, 409, "EXECUTION_BUSY")
        assert '"flow_completed"' in first.rest()
    finally:
        first.close()
    again = http.post(SLOW_STEP, json={"executionId": execution_id, "stepIndex": 0})
    assert_error(again, 400, "INVALID_STEP_INDEX")


def test_concurrent_steps_on_one_execution_let_exactly_one_through(
    dev_server: DevServerProcess, http: httpx.Client
) -> None:
    paused = http.post(STEP, json={"message": "many", "stepIndex": 0})
    execution_id = parse_sse(paused.text)[0][1]["executionId"]
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def continue_run() -> None:
        with httpx.Client(
            base_url=dev_server.base_url + "/", headers=dev_server.headers(), timeout=30
        ) as own:
            barrier.wait()
            statuses.append(
                own.post(STEP, json={"executionId": execution_id, "stepIndex": 1}).status_code
            )

    threads = [threading.Thread(target=continue_run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 400, 409}, statuses
    trace = http.get(f"seq/demo/examples/two-step/runs/{execution_id}/trace").json()
    assert trace["flowRun"]["status"] == "completed"
    assert [s["attempt"] for s in trace["steps"]] == [1, 1]


def test_a_client_leaving_mid_stream_frees_its_slot_and_the_step_can_be_run_again(
    dev_server: DevServerProcess,
) -> None:
    key = TEST_KEYS["single_slot"]
    session = str(uuid.uuid4())
    headers = {**dev_server.headers(key), "X-Session-Id": session}
    body = {"message": "gone", "stepIndex": 0, "parameters": {"delay_ms": 2000}}
    gone = OpenStep(dev_server.base_url, headers, body)
    execution_id = gone.execution_id
    gone.close()
    with httpx.Client(base_url=dev_server.base_url + "/", headers=headers, timeout=30) as http:
        deadline = time.monotonic() + 5
        while True:  # the server notices the disconnect at its next write
            again = http.post(SLOW_STEP, json={"executionId": execution_id, "stepIndex": 0})
            if again.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert again.status_code == 200, again.text
        assert parse_sse(again.text)[-1][0] == "flow_completed"
        attempts = http.get(
            f"seq/demo/examples/slow/runs/{execution_id}/steps/think/trace",
            params={"attempt": "all"},
        ).json()["attempts"]
        recorded = http.get(f"seq/sessions/{session}").json()["executions"]
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, "failed"), (2, "completed")]
    assert attempts[0]["errorContext"]["code"] == "INTERRUPTED"
    # The session (what replay serves) holds what the run did, not the cut-short attempt.
    assert [(s["attempt"], s["status"]) for s in recorded[0]["steps"]] == [(2, "completed")]
    assert recorded[0]["status"] == "completed"


def test_a_client_leaving_a_quiet_live_trace_frees_its_slot(
    dev_server: DevServerProcess,
) -> None:
    headers = dev_server.headers(TEST_KEYS["single_slot"])
    with httpx.Client(base_url=dev_server.base_url + "/", headers=headers, timeout=30) as http:
        paused = http.post(STEP, json={"message": "quiet", "stepIndex": 0})
        execution_id = parse_sse(paused.text)[0][1]["executionId"]
        path = f"seq/demo/examples/two-step/runs/{execution_id}/trace/stream"
        with http.stream("GET", path) as tail:  # a paused run: no new events will come
            assert tail.status_code == 200
            chunks = tail.iter_raw()  # kept referenced: closing it would close the stream
            assert b"run_started" in next(chunks)
            assert_error(http.post(EXECUTE, json={"message": "busy"}), 429, "RATE_LIMIT")
        deadline = time.monotonic() + 5
        while (reply := http.post(EXECUTE, json={"message": "free"})).status_code == 429:
            assert time.monotonic() < deadline, "the slot of the abandoned stream was not freed"
            time.sleep(0.1)
        assert reply.status_code == 200


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[DevServerProcess]:
    """A dev server of this test's own, which it may stop and restart."""
    write_server_files(tmp_path)
    server = DevServerProcess(
        db=tmp_path / "dev.sqlite3",
        flow_dirs=(tmp_path / "flows",),
        keys_file=tmp_path / "keys.yaml",
        latency_ms=0,
    )
    with server:
        yield server


def test_sigterm_finishes_in_flight_requests_and_keeps_queued_jobs(
    own_server: DevServerProcess,
) -> None:
    base, headers = own_server.base_url + "/", own_server.headers()
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        done = http.post(EXECUTE, json={"message": "before stop"}).json()["executionId"]
        busy = http.post(
            "seq/demo/examples/slow/jobs",
            json={"message": "busy", "parameters": {"delay_ms": 5000}},
        ).json()["executionId"]
        queued = [http.post(JOBS, json={"message": f"queued {i}"}).json() for i in range(3)]
    in_flight: dict[str, Any] = {}

    def slow_execute() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as own:
            reply = own.post(
                "seq/demo/examples/slow/execute",
                json={"message": "in flight", "parameters": {"delay_ms": 800}},
            )
            in_flight.update(status=reply.status_code, body=reply.json())

    caller = threading.Thread(target=slow_execute)
    caller.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert own_server.stop(sig=signal.SIGTERM) == 0
    assert time.monotonic() - started < 10
    caller.join(timeout=10)
    assert in_flight["status"] == 200
    assert in_flight["body"]["result"] == "After a while: in flight"

    own_server.start()
    with httpx.Client(base_url=own_server.base_url + "/", headers=headers, timeout=30) as http:
        trace = http.get(f"seq/demo/examples/hello-world/runs/{done}/trace").json()
        assert trace["flowRun"]["status"] == "completed"
        assert (
            http.get(
                f"seq/demo/examples/slow/runs/{in_flight['body']['executionId']}/trace"
            ).json()["flowRun"]["status"]
            == "completed"
        )
        for job in queued:
            status = wait_for_job(http, "hello-world", job["executionId"])
            assert status["status"] == "completed", status
        assert wait_for_job(http, "slow", busy)["status"] == "completed"


def test_sigterm_answers_runs_too_long_for_the_grace_period(
    own_server: DevServerProcess,
) -> None:
    base, headers = own_server.base_url + "/", own_server.headers()
    long = {"message": "long", "parameters": {"delay_ms": 20000}}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        job = http.post("seq/demo/examples/slow/jobs", json=long).json()["executionId"]
    stream = OpenStep(base.rstrip("/"), headers, {**long, "stepIndex": 0})
    replies: dict[str, Any] = {}

    def read_stream() -> None:
        replies["stream"] = stream.rest()

    def long_execute() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as own:
            replies["execute"] = own.post("seq/demo/examples/slow/execute", json=long)

    callers = [threading.Thread(target=read_stream), threading.Thread(target=long_execute)]
    for caller in callers:
        caller.start()
    time.sleep(0.5)
    started = time.monotonic()
    assert own_server.stop(sig=signal.SIGTERM) == 0
    assert time.monotonic() - started < 5
    for caller in callers:
        caller.join(timeout=10)
    stream.close()
    assert_error(replies["execute"], 503, "SERVICE_UNAVAILABLE")
    assert replies["execute"].headers["retry-after"] == "1"
    assert "step_input" in replies["stream"]  # the stream ended cleanly (no reset), unfinished
    assert "Traceback" not in own_server.stderr()

    own_server.start()
    with httpx.Client(base_url=own_server.base_url + "/", headers=headers, timeout=30) as http:
        attempts = http.get(
            f"seq/demo/examples/slow/runs/{stream.execution_id}/steps/think/trace",
            params={"attempt": "all"},
        ).json()["attempts"]
        assert [(a["attempt"], a["status"]) for a in attempts] == [(1, "failed")]
        assert attempts[0]["errorContext"]["code"] == "INTERRUPTED"
        assert http.get(f"seq/demo/examples/slow/jobs/{job}").json()["status"] in (
            "pending",
            "running",
        )


def test_after_a_hard_kill_queued_jobs_run_and_nothing_stays_running(
    own_server: DevServerProcess,
) -> None:
    base, headers = own_server.base_url + "/", own_server.headers()
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        running = http.post(
            "seq/demo/examples/slow/jobs", json={"message": "cut", "parameters": {"delay_ms": 3000}}
        ).json()["executionId"]
        queued = http.post(JOBS, json={"message": "waiting"}).json()["executionId"]
    executing = OpenStep(base.rstrip("/"), headers, {"message": "cut", "stepIndex": 0})
    step_run = executing.execution_id
    time.sleep(0.5)
    own_server.stop(sig=signal.SIGKILL)
    executing.close()
    own_server.start()
    with httpx.Client(
        base_url=own_server.base_url + "/", headers=own_server.headers(), timeout=30
    ) as http:
        assert wait_for_job(http, "hello-world", queued)["result"] == "Hello! You said: waiting"
        assert wait_for_job(http, "slow", running)["result"] == "After a while: cut"
        attempts = http.get(
            f"seq/demo/examples/slow/runs/{running}/steps/think/trace", params={"attempt": "all"}
        ).json()["attempts"]
        assert [(a["attempt"], a["status"]) for a in attempts] == [(1, "failed"), (2, "completed")]
        # The /step run the kill cut short waits at its cursor; the next call runs the step.
        trace = http.get(f"seq/demo/examples/slow/runs/{step_run}/trace").json()
        assert trace["steps"][0]["status"] == "failed"
        again = http.post(SLOW_STEP, json={"executionId": step_run, "stepIndex": 0})
        assert parse_sse(again.text)[-1][0] == "flow_completed"


def test_sigterm_with_an_open_live_trace_does_not_hang(own_server: DevServerProcess) -> None:
    base, headers = own_server.base_url + "/", own_server.headers()
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        job = http.post(
            "seq/demo/examples/slow/jobs",
            json={"message": "long", "parameters": {"delay_ms": 30000}},
        ).json()["executionId"]
        with http.stream("GET", f"seq/demo/examples/slow/runs/{job}/trace/stream") as stream:
            assert stream.status_code == 200
            started = time.monotonic()
            status = own_server.stop(sig=signal.SIGTERM)
            assert time.monotonic() - started < 10
            assert status == 0


def wait_for_job(http: httpx.Client, slug: str, execution_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        status: dict[str, Any] = http.get(f"seq/demo/examples/{slug}/jobs/{execution_id}").json()
        if status["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.05)
