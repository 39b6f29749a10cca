"""The dev server process: readiness, request ids, auth and the order of refusals."""

from __future__ import annotations

import httpx
from conftest import TEST_KEYS, DevServerProcess

HELLO = "seq/demo/examples/hello-world/execute"
FRESH = {
    "message": "hi",
    "parameters": {},
    "iterationsUsed": 0,
    "accumulatedOutputs": {},
    "trace": False,
}


def test_ready_line_names_a_loopback_base_url(dev_server: DevServerProcess) -> None:
    assert dev_server.base_url == f"http://127.0.0.1:{dev_server.port}/api/v1"
    health = httpx.get(f"http://127.0.0.1:{dev_server.port}/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}


def test_hello_world_answers_the_message(http: httpx.Client) -> None:
    response = http.post(HELLO, json=FRESH)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "completed"
    assert body["result"] == "Hello! You said: hi"
    assert body["blockCount"] == 1
    assert body["executionId"].startswith("exec_")
    assert body["flowId"]


def test_every_response_has_a_distinct_request_id(http: httpx.Client) -> None:
    ok = http.post(HELLO, json=FRESH)
    missing = http.get("nowhere")
    unauthorised = http.post(HELLO, json=FRESH, headers={"Authorization": "Bearer nk_nope"})
    ids = {r.headers["x-request-id"] for r in (ok, missing, unauthorised)}
    assert len(ids) == 3
    assert missing.status_code == 404
    assert missing.json() == {"detail": {"code": "NOT_FOUND", "message": "Not Found"}}


def test_unknown_key_is_401_with_a_challenge(http: httpx.Client) -> None:
    response = http.post(HELLO, json=FRESH, headers={"Authorization": "Bearer nk_unknown"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["detail"]["code"] == "UNAUTHENTICATED"


def test_missing_authorization_is_401(dev_server: DevServerProcess) -> None:
    response = httpx.post(f"{dev_server.base_url}/{HELLO}", json=FRESH)
    assert response.status_code == 401
    assert "www-authenticate" in response.headers


def test_key_without_access_to_the_project_is_403(http: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {TEST_KEYS['demo_only']}"}
    denied = http.post("seq/test/flows/versioned/execute", json=FRESH, headers=headers)
    allowed = http.post(HELLO, json=FRESH, headers=headers)
    assert denied.status_code == 403
    assert denied.json()["detail"]["code"] == "FORBIDDEN"
    assert allowed.status_code == 200


def test_unknown_flow_is_404_flow_not_found(http: httpx.Client) -> None:
    response = http.post("seq/demo/examples/no-such-flow/execute", json=FRESH)
    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "FLOW_NOT_FOUND"


def test_key_without_credits_is_402_but_401_403_404_come_first(http: httpx.Client) -> None:
    broke = {"Authorization": f"Bearer {TEST_KEYS['broke']}"}
    assert http.post(HELLO, json=FRESH, headers=broke).status_code == 402
    assert (
        http.post(HELLO, json=FRESH, headers=broke).json()["detail"]["code"]
        == "INSUFFICIENT_CREDITS"
    )
    assert http.post("seq/demo/examples/nope/execute", json=FRESH, headers=broke).status_code == 404
    demo_only = {"Authorization": f"Bearer {TEST_KEYS['demo_only']}"}
    assert (
        http.post("seq/test/flows/nope/execute", json=FRESH, headers=demo_only).status_code == 403
    )


def test_rate_limit_is_429_with_retry_after(http: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {TEST_KEYS['throttled']}"}
    statuses = [http.post(HELLO, json=FRESH, headers=headers).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = http.post(HELLO, json=FRESH, headers=headers)
    assert limited.json()["detail"]["code"] == "RATE_LIMIT"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # 404 is decided before the rate limit.
    assert (
        http.post("seq/demo/examples/nope/execute", json=FRESH, headers=headers).status_code == 404
    )


def test_concurrency_limit_is_429_while_a_stream_is_open(dev_server: DevServerProcess) -> None:
    headers = dev_server.headers(TEST_KEYS["single_slot"])
    with httpx.Client(base_url=dev_server.base_url + "/", headers=headers, timeout=30) as http:
        live = {"message": "slowly", "parameters": {"delay_ms": 800}, "runRemaining": True}
        with http.stream("POST", "seq/demo/examples/slow/step", json=live) as stream:
            assert stream.status_code == 200
            second = http.post(HELLO, json=FRESH)
            assert second.status_code == 429
            assert second.headers["retry-after"] == "1"
            stream.read()
        assert http.post(HELLO, json=FRESH).status_code == 200


def test_invalid_json_and_wrong_shapes_are_rejected(http: httpx.Client) -> None:
    not_json = http.post(HELLO, content=b"{nope", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert not_json.json()["detail"]["code"] == "INVALID_JSON"
    wrong = http.post(HELLO, json={"message": 3})
    assert wrong.status_code == 422
    assert wrong.json()["detail"]["code"] == "INVALID_REQUEST"


def test_runs_are_charged_until_credits_run_out(http: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {TEST_KEYS['tiny_budget']}"}
    statuses = [http.post(HELLO, json=FRESH, headers=headers).status_code for _ in range(6)]
    assert statuses[0] == 200
    assert 402 in statuses
    first_refusal = statuses.index(402)
    assert first_refusal >= 2
    assert set(statuses[first_refusal:]) == {402}
