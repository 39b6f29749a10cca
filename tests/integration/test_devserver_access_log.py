"""The dev server writes one JSON access-log line per request to stderr."""

from __future__ import annotations

import json

import httpx

from noukai_sdk.devserver.process import DevServerProcess


def test_each_request_is_logged_as_json_with_its_request_id() -> None:
    with DevServerProcess(latency_ms=0) as server:
        health = httpx.get(f"http://127.0.0.1:{server.port}/healthz")
        missing = httpx.post(
            server.base_url + "/seq/demo/examples/nope/execute",
            headers={"Authorization": f"Bearer {server.api_key}"},
            json={},
        )
    records = [json.loads(line) for line in server.stderr().splitlines() if line.startswith("{")]
    by_id = {record["request_id"]: record for record in records}
    assert by_id[health.headers["x-request-id"]]["status"] == 200
    logged = by_id[missing.headers["x-request-id"]]
    assert (logged["method"], logged["status"]) == ("POST", 404)
    assert logged["path"].endswith("/seq/demo/examples/nope/execute")
    assert logged["duration_ms"] >= 0
