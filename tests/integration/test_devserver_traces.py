"""Run traces, step traces (attempts, loop indexes) and the live trace stream."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from conftest import DevServerProcess, parse_sse

FRESH = {"parameters": {}, "iterationsUsed": 0, "accumulatedOutputs": {}, "trace": False}


def execute(http: httpx.Client, path: str, message: str, **extra: Any) -> dict[str, Any]:
    response = http.post(f"{path}/execute", json={"message": message, **FRESH, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_run_trace_lists_each_step(http: httpx.Client) -> None:
    flow = "seq/demo/examples/two-step"
    run = execute(http, flow, "trace me")
    trace = http.get(f"{flow}/runs/{run['executionId']}/trace").json()
    summary = trace["flowRun"]
    assert summary["id"].startswith("run_") and summary["flowId"] == run["flowId"]
    assert summary["status"] == "completed" and summary["triggerType"] == "execute"
    assert summary["stepCount"] == 2 and summary["startedAt"] and summary["completedAt"]
    assert [s["stepId"] for s in trace["steps"]] == ["draft", "polish"]
    draft = trace["steps"][0]
    assert draft["attempt"] == 1 and draft["status"] == "completed"
    assert draft["tokens"]["total"] > 0 and isinstance(draft["costUsd"], str)
    assert draft["modelUsed"] == "noukai/dev-echo"
    assert draft["inputContext"] == {"message": "trace me", "parameters": {}}
    assert draft["outputContext"] == {"output": "Draft: trace me"}
    assert draft["truncated"] is False


def test_step_trace_latest_numbered_and_all_attempts(http: httpx.Client, step: Any) -> None:
    flow = "seq/demo/examples/tools-enabled"
    first = {
        "stepIndex": 0,
        "accumulatedOutputs": {},
        "message": "Sydney",
        "parameters": {},
        "inputOverrides": {},
        "runRemaining": False,
        "iterationsUsed": 0,
        "trace": False,
        "tools": [{"type": "function", "function": {"name": "get_weather"}}],
    }
    _, events = step(f"{flow}/step", first)
    execution_id = events[0][1]["executionId"]
    base = f"{flow}/runs/{execution_id}/steps/weather/trace"
    latest = http.get(base).json()
    assert (
        latest["stepId"] == "weather" and latest["attempt"] == 1 and latest["status"] == "running"
    )
    assert http.get(base, params={"attempt": 1}).json()["attempt"] == 1
    attempts = http.get(base, params={"attempt": "all"}).json()
    assert attempts["stepId"] == "weather" and [a["attempt"] for a in attempts["attempts"]] == [1]
    assert http.get(base, params={"attempt": 7}).status_code == 404
    assert http.get(base, params={"attempt": "zero"}).status_code == 400
    assert http.get(f"{flow}/runs/{execution_id}/steps/nope/trace").status_code == 404


def test_loop_steps_are_traced_per_loop_index(http: httpx.Client) -> None:
    flow = "seq/test/flows/looped"
    run = execute(http, flow, "go")
    assert run["result"] == "done"
    trace = http.get(f"{flow}/runs/{run['executionId']}/trace").json()
    loops = [(s["stepId"], s.get("loopIndex")) for s in trace["steps"]]
    assert loops == [("repeat", 0), ("repeat", 1), ("repeat", 2), ("wrap", None)]
    second = http.get(
        f"{flow}/runs/{run['executionId']}/steps/repeat/trace", params={"loop_index": 1}
    ).json()
    assert second["loopIndex"] == 1
    assert second["outputContext"] == {"output": "round 1: go"}


def test_trace_of_unknown_run_is_404(http: httpx.Client) -> None:
    response = http.get("seq/demo/examples/hello-world/runs/exec_nope/trace")
    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "RUN_NOT_FOUND"


def test_live_trace_of_a_finished_run_replays_its_events(http: httpx.Client) -> None:
    flow = "seq/demo/examples/two-step"
    run = execute(http, flow, "replay")
    response = http.get(f"{flow}/runs/{run['executionId']}/trace/stream")
    assert response.headers["content-type"].startswith("text/event-stream")
    kinds = [kind for kind, _ in parse_sse(response.text)]
    assert kinds[0] == "run_started" and kinds[-1] == "flow_completed"
    assert kinds.count("step_completed") == 2


def test_live_trace_tails_a_running_job_until_it_ends(
    dev_server: DevServerProcess, http: httpx.Client
) -> None:
    flow = "seq/demo/examples/slow"
    accepted = http.post(
        f"{flow}/jobs", json={"message": "tail", **FRESH, "parameters": {"delay_ms": 600}}
    ).json()
    received: list[tuple[float, str]] = []

    def follow() -> None:
        with (
            httpx.Client(
                base_url=dev_server.base_url + "/", headers=dev_server.headers(), timeout=30
            ) as tail,
            tail.stream("GET", f"{flow}/runs/{accepted['executionId']}/trace/stream") as stream,
        ):
            buffer = ""
            for text in stream.iter_text():
                buffer += text
                while "\n\n" in buffer:
                    frame, buffer = buffer.split("\n\n", 1)
                    received.append(
                        (time.monotonic(), frame.split("\n")[0].removeprefix("event: "))
                    )

    started = time.monotonic()
    follower = threading.Thread(target=follow)
    follower.start()
    follower.join(timeout=20)
    assert not follower.is_alive()
    kinds = [kind for _, kind in received]
    assert kinds[0] == "run_started" and kinds[-1] == "flow_completed"
    assert received[-1][0] - started >= 0.4


def test_trace_flag_captures_io_even_for_metadata_only_flows(http: httpx.Client) -> None:
    flow = "seq/test/capture/metadata-only"
    plain = execute(http, flow, "quiet")
    traced = execute(http, flow, "loud", trace=True)
    [plain_step] = http.get(f"{flow}/runs/{plain['executionId']}/trace").json()["steps"]
    [traced_step] = http.get(f"{flow}/runs/{traced['executionId']}/trace").json()["steps"]
    assert "inputContext" not in plain_step and "outputContext" not in plain_step
    assert plain_step["tokens"]["total"] > 0
    assert traced_step["inputContext"]["message"] == "loud"
    assert traced_step["outputContext"] == {"output": "meta loud"}
