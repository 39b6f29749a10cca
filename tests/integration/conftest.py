"""Integration fixtures: one real ``noukai dev-server`` process over TCP for the whole session.

The server runs as a subprocess on a free loopback port with ``--latency 0``, a temporary SQLite
file, a keys file with a few purpose-built keys and some extra test flows. ``dev_server.restart()``
stops it and starts it again on the same port and database (for the job-survives-restart test).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from noukai_sdk import AsyncNoukai, Noukai
from noukai_sdk.devserver.process import DevServerProcess as LauncherProcess

READY_MARKER = "NOUKAI_DEV_SERVER_READY"
DEV_API_KEY = "nk_dev_local"

# Keys beyond the default one, each for one kind of refusal.
TEST_KEYS = {
    "demo_only": "nk_test_demo_only",
    "broke": "nk_test_broke",
    "throttled": "nk_test_throttled",
    "single_slot": "nk_test_single_slot",
    "ten_slots": "nk_test_ten_slots",
    "other": "nk_test_other_owner",
    "tiny_budget": "nk_test_tiny_budget",
}
_KEYS_FILE = f"""\
keys:
  {DEV_API_KEY}: {{projects: ["*"]}}
  {TEST_KEYS["demo_only"]}: {{projects: ["demo/examples"]}}
  {TEST_KEYS["broke"]}: {{credits_usd: "0"}}
  {TEST_KEYS["throttled"]}: {{requests_per_minute: 2}}
  {TEST_KEYS["single_slot"]}: {{max_concurrency: 1}}
  {TEST_KEYS["ten_slots"]}: {{max_concurrency: 10}}
  {TEST_KEYS["other"]}: {{projects: ["*"]}}
  {TEST_KEYS["tiny_budget"]}: {{credits_usd: "0.00003"}}
"""

# Flows only the tests use: capture modes, versions, loops and a tight tool limit.
_TEST_FLOWS = {
    "test/capture/metadata-only.yaml": """\
capture: metadata_only
blocks: [{id: only, type: llm, template: "meta {message}"}]
""",
    "test/capture/off.yaml": """\
capture: "off"
blocks: [{id: only, type: llm, template: "off {message}"}]
""",
    "test/capture/redacted.yaml": """\
capture: redacted
blocks: [{id: echo, type: structured, fields: {text: "{message}", password: "{parameters.password}"}}]
""",
    "test/flows/versioned.yaml": """\
published: [1]
versions:
  2: [{id: answer, type: llm, template: "v2 says {message}"}]
blocks: [{id: answer, type: llm, template: "draft says {message}"}]
""",
    "test/flows/draft-only.yaml": """\
blocks: [{id: answer, type: llm, template: "draft only {message}"}]
""",
    "test/flows/looped.yaml": """\
published: [1]
blocks:
  - {id: repeat, type: llm, loop: 3, template: "round {loop_index}: {message}"}
  - {id: wrap, type: llm, template: "done"}
""",
    "test/flows/tool-limit.yaml": """\
published: [1]
max_tool_iterations: 2
blocks:
  - {id: lookup, type: tool, tool: get_weather, argument: city,
     choices: [Paris, London, Tokyo, Rome], template: "report: {tool_outputs}"}
""",
    "test/flows/slow-tool.yaml": """\
published: [1]
blocks:
  - {id: lookup, type: tool, tool: get_weather, argument: city, latency_ms: 400,
     choices: [Paris], template: "report: {tool_outputs}"}
""",
    "test/flows/three-step.yaml": """\
published: [1]
blocks:
  - {id: one, type: llm, template: "1 {message}"}
  - {id: two, type: stream, template: "2 {outputs.one}"}
  - {id: three, type: structured, fields: {previous: "{outputs.two}", words: "{word_count}"}}
""",
}


class DevServerProcess(LauncherProcess):
    """The session's dev server: the package's launcher plus request headers for raw HTTP tests."""

    def headers(self, api_key: str | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {api_key or self.api_key}",
            "X-Noukai-API-Version": "2026-05-31",
        }


def write_server_files(workdir: Path) -> None:
    (workdir / "keys.yaml").write_text(_KEYS_FILE)
    for relative, text in _TEST_FLOWS.items():
        path = workdir / "flows" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServerProcess]:
    workdir = tmp_path_factory.mktemp("devserver")
    write_server_files(workdir)
    server = DevServerProcess(
        db=workdir / "dev.sqlite3",
        flow_dirs=(workdir / "flows",),
        keys_file=workdir / "keys.yaml",
        latency_ms=0,
    )
    with server:
        yield server


@pytest.fixture
def http(dev_server: DevServerProcess) -> Iterator[httpx.Client]:
    """A raw HTTP client for the dev server with the default key."""
    with httpx.Client(
        base_url=dev_server.base_url + "/", headers=dev_server.headers(), timeout=30
    ) as client:
        yield client


@pytest.fixture
def client(dev_server: DevServerProcess) -> Iterator[Noukai]:
    """``noukai_sdk.Noukai`` bound to the dev server (``env="dev"``, ``dev_port=``)."""
    with Noukai(dev_server.api_key, env="dev", dev_port=dev_server.port) as sdk_client:
        yield sdk_client


@pytest.fixture
async def async_client(dev_server: DevServerProcess) -> AsyncIterator[AsyncNoukai]:
    """``noukai_sdk.AsyncNoukai`` bound to the dev server."""
    async with AsyncNoukai(dev_server.api_key, env="dev", dev_port=dev_server.port) as sdk_client:
        yield sdk_client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.integration)


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event type, payload) of each LF-framed frame of a dev-server SSE body."""
    import json

    events: list[tuple[str, dict[str, Any]]] = []
    for frame in text.split("\n\n"):
        if not frame.strip():
            continue
        fields = dict(line.split(": ", 1) for line in frame.split("\n"))
        events.append((fields["event"], json.loads(fields["data"])))
    return events


@pytest.fixture
def step(http: httpx.Client) -> Any:
    """``step(path, body) -> (status, events)``: one /step call, its SSE events parsed."""

    def post(
        path: str, body: dict[str, Any], **kwargs: Any
    ) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
        response = http.post(path, json=body, **kwargs)
        if response.status_code >= 400:
            return response.status_code, [("error", response.json())]
        assert response.headers["content-type"].startswith("text/event-stream")
        return response.status_code, parse_sse(response.text)

    return post
