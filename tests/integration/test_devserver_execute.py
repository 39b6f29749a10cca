"""POST …/execute: versions, structured output, failures, and tool pauses with resume."""

from __future__ import annotations

import json
from typing import Any

import httpx

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object"},
    },
}


def fresh(message: str | None = "hi", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "parameters": {},
        "iterationsUsed": 0,
        "accumulatedOutputs": {},
        "trace": False,
    }
    if message is not None:
        body["message"] = message
    return {**body, **extra}


def resume(paused: dict[str, Any], results: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "parameters": {},
        "tools": [WEATHER_TOOL],
        "executionId": paused["executionId"],
        "pausedAtStep": paused["pausedAtStep"],
        "iterationsUsed": paused["iterationsUsed"],
        "toolCallMessages": paused["toolCallMessages"] + results,
        "accumulatedOutputs": paused["accumulatedOutputs"],
        "trace": False,
        **extra,
    }


def answer(call: dict[str, Any]) -> dict[str, Any]:
    city = json.loads(call["function"]["arguments"])["city"]
    return {"role": "tool", "tool_call_id": call["id"], "content": f"sunny in {city}"}


def test_two_step_passes_outputs_forward(http: httpx.Client) -> None:
    body = http.post("seq/demo/examples/two-step/execute", json=fresh("a b c")).json()
    assert body["status"] == "completed"
    assert body["blockCount"] == 2
    assert body["result"] == "Polished (3 words): Draft: a b c"


def test_versions_route_to_published_and_draft(http: httpx.Client) -> None:
    def result(path: str) -> Any:
        response = http.post(path, json=fresh("x"))
        assert response.status_code == 200, response.text
        return response.json()["result"]

    assert result("seq/test/flows/versioned/execute") == "v2 says x"
    assert result("seq/test/flows/versioned/v2/execute") == "v2 says x"
    assert result("seq/test/flows/versioned/v1/execute") == "draft says x"
    assert result("seq/test/flows/versioned/v0/execute") == "draft says x"
    assert result("seq/test/flows/draft-only/execute") == "draft only x"
    missing = http.post("seq/test/flows/versioned/v9/execute", json=fresh("x"))
    assert missing.status_code == 404
    assert missing.json()["detail"]["code"] == "FLOW_NOT_FOUND"


def test_structured_output_is_json_and_parameters_are_templated(http: httpx.Client) -> None:
    body = fresh("one two three", parameters={"audience": "kids"})
    result = http.post("seq/demo/examples/structured-output/execute", json=body).json()["result"]
    assert result == {
        "text": "one two three",
        "word_count": 3,
        "char_count": 13,
        "audience": "kids",
    }


def test_failing_flow_returns_a_failed_result(http: httpx.Client) -> None:
    body = http.post("seq/demo/examples/failing/execute", json=fresh()).json()
    assert body["status"] == "failed"
    assert body["result"]["error"]["code"] == "FLOW_EXECUTION_ERROR"
    assert body["result"]["step_id"] == "explode"


def test_block_overrides_change_the_template(http: httpx.Client) -> None:
    overrides = {"answer": {"template": "overridden {message}", "model": "noukai/other"}}
    body = http.post(
        "seq/demo/examples/hello-world/execute", json=fresh("m", blockOverrides=overrides)
    ).json()
    assert body["result"] == "overridden m"


def test_structured_messages_use_the_last_user_turn(http: httpx.Client) -> None:
    turns = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "second"},
    ]
    body = http.post(
        "seq/demo/examples/hello-world/execute", json=fresh(None, messages=turns)
    ).json()
    assert body["result"] == "Hello! You said: second"
    system = http.post(
        "seq/demo/examples/hello-world/execute",
        json=fresh(None, messages=[{"role": "system", "content": "x"}]),
    )
    assert system.status_code == 400
    assert system.json()["detail"]["code"] == "MESSAGES_ROLE_INVALID"
    huge = http.post(
        "seq/demo/examples/hello-world/execute",
        json=fresh(None, messages=[{"role": "user", "content": "x" * 1_000_001}]),
    )
    assert huge.status_code == 413
    assert huge.json()["detail"]["code"] == "MESSAGES_TOO_LARGE"


def test_tool_calls_pause_once_per_city_and_resume_to_a_result(http: httpx.Client) -> None:
    path = "seq/demo/examples/tools-enabled/execute"
    paused = http.post(
        path, json=fresh("Weather in Tokyo, then Paris?", tools=[WEATHER_TOOL])
    ).json()
    seen_cities = []
    rounds = 0
    while paused["status"] == "tool_calls_required":
        rounds += 1
        assert paused["pausedAtStep"] == "weather"
        assert paused["iterationsUsed"] == rounds
        assert len(paused["toolCalls"]) == 1
        call = paused["toolCalls"][0]
        assert call["function"]["name"] == "get_weather"
        seen_cities.append(json.loads(call["function"]["arguments"])["city"])
        response = http.post(path, json=resume(paused, [answer(call)]))
        assert response.status_code == 200, response.text
        paused = response.json()
    assert seen_cities == ["Tokyo", "Paris"]
    assert paused["status"] == "completed"
    assert paused["result"] == "Weather report: sunny in Tokyo; sunny in Paris"


def test_tool_results_in_the_0_2_0_readme_shape_are_accepted(http: httpx.Client) -> None:
    path = "seq/demo/examples/tools-enabled/execute"
    paused = http.post(path, json=fresh("Oslo", tools=[WEATHER_TOOL])).json()
    call_id = paused["toolCalls"][0]["id"]
    done = http.post(
        path, json=resume(paused, [{"tool_call_id": call_id, "output": "cold"}])
    ).json()
    assert done["result"] == "Weather report: cold"


def test_tool_resume_errors(http: httpx.Client) -> None:
    path = "seq/demo/examples/tools-enabled/execute"
    paused = http.post(path, json=fresh("Rome", tools=[WEATHER_TOOL])).json()

    wrong_id = http.post(
        path, json=resume(paused, [{"role": "tool", "tool_call_id": "nope", "content": "x"}])
    )
    assert wrong_id.status_code == 400
    assert wrong_id.json()["detail"]["code"] == "TOOL_RESULTS_MISMATCH"

    no_results = http.post(path, json=resume(paused, []))
    assert no_results.json()["detail"]["code"] == "TOOL_RESULTS_MISMATCH"

    wrong_step = http.post(
        path, json=resume(paused, [answer(paused["toolCalls"][0])], pausedAtStep="other")
    )
    assert wrong_step.status_code == 400
    assert wrong_step.json()["detail"]["code"] == "PAUSED_STEP_INVALID"

    unknown = http.post(path, json=resume({**paused, "executionId": "exec_unknown"}, []))
    assert unknown.status_code == 400
    assert unknown.json()["detail"]["code"] == "EXECUTION_ID_INVALID"

    done = http.post(path, json=resume(paused, [answer(paused["toolCalls"][0])])).json()
    assert done["status"] == "completed"
    again = http.post(path, json=resume(paused, [answer(paused["toolCalls"][0])]))
    assert again.status_code == 409
    assert again.json()["detail"]["code"] == "EXECUTION_ID_INVALID"


def test_server_side_iteration_limit_is_409(http: httpx.Client) -> None:
    path = "seq/test/flows/tool-limit/execute"
    paused = http.post(path, json=fresh("Paris London Tokyo", tools=[WEATHER_TOOL])).json()
    paused = http.post(path, json=resume(paused, [answer(paused["toolCalls"][0])])).json()
    assert paused["iterationsUsed"] == 2
    limited = http.post(path, json=resume(paused, [answer(paused["toolCalls"][0])]))
    assert limited.status_code == 409
    assert limited.json()["detail"]["code"] == "TOOL_ITERATION_LIMIT"


def test_tool_flow_without_tools_and_invalid_tools_are_400(http: httpx.Client) -> None:
    path = "seq/demo/examples/tools-enabled/execute"
    missing = http.post(path, json=fresh("Paris"))
    assert missing.status_code == 400
    assert missing.json()["detail"]["code"] == "TOOLS_NOT_ENABLED"
    invalid = http.post(path, json=fresh("Paris", tools=[{"type": "retrieval"}]))
    assert invalid.json()["detail"]["code"] == "TOOLS_INVALID"
    bad_name = http.post(
        path, json=fresh("Paris", tools=[{"type": "function", "function": {"name": "a b"}}])
    )
    assert bad_name.json()["detail"]["code"] == "TOOL_NAME_INVALID"


def test_concurrent_resumes_of_one_execution_are_refused(http: httpx.Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = "seq/test/flows/slow-tool/execute"
    paused = http.post(path, json=fresh("Paris", tools=[WEATHER_TOOL])).json()
    body = resume(paused, [answer(paused["toolCalls"][0])])
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda _: http.post(path, json=body), range(2)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409]
    refused = next(r for r in responses if r.status_code == 409).json()["detail"]["code"]
    assert refused in ("EXECUTION_BUSY", "EXECUTION_ID_INVALID")


def test_tool_choice_none_answers_without_calling_tools(http: httpx.Client) -> None:
    body = fresh("Paris", tools=[WEATHER_TOOL], toolChoice="none")
    result = http.post("seq/demo/examples/tools-enabled/execute", json=body).json()
    assert result["status"] == "completed"
    assert result["result"] == "Weather report: "
