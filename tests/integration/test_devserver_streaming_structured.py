"""The ``streaming-structured`` demo flow: a JSON object streamed as text deltas, whose step
output and flow result are the object itself (what ``stream_object()`` needs offline)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import parse_sse

from noukai_sdk import Noukai, StepCompleted, StepOutput

FLOW = "demo/examples/streaming-structured"
DEV_SERVER = [sys.executable, "-m", "noukai_sdk.devserver"]
STEP = f"seq/{FLOW}/step"
EXPECTED = {
    "title": "ship it today",
    "word_count": 3,
    "char_count": 13,
    "summary": "A message of 3 words: ship it today",
}


def deltas(events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    outputs = [payload["outputData"] for kind, payload in events if kind == "step_output"]
    assert all(isinstance(o, dict) and set(o) == {"delta"} for o in outputs), outputs
    return [o["delta"] for o in outputs]


def test_the_object_streams_as_json_text_deltas(http: httpx.Client) -> None:
    response = http.post(STEP, json={"message": "ship it today", "stepIndex": 0})
    events = parse_sse(response.text)
    chunks = deltas(events)
    assert len(chunks) > 1
    assert json.loads("".join(chunks)) == EXPECTED
    completed = next(payload for kind, payload in events if kind == "step_completed")
    assert completed["output"] == EXPECTED
    assert events[-1][0] == "flow_completed"
    assert events[-1][1]["result"] == EXPECTED
    # Only deltas: no whole-output step_output after them, as for the text `streaming` flow.
    kinds = [kind for kind, _ in events]
    assert kinds.index("step_completed") == len(kinds) - 2


def test_it_is_deterministic(http: httpx.Client) -> None:
    runs = [
        deltas(parse_sse(http.post(STEP, json={"message": "same words", "stepIndex": 0}).text))
        for _ in range(2)
    ]
    assert runs[0] == runs[1]


def test_execute_returns_the_parsed_object(http: httpx.Client) -> None:
    executed = http.post(f"seq/{FLOW}/execute", json={"message": "ship it today"}).json()
    assert executed["status"] == "completed"
    assert executed["result"] == EXPECTED


def test_non_ascii_text_streams_unescaped_and_parses_back(http: httpx.Client) -> None:
    events = parse_sse(http.post(STEP, json={"message": "crème brûlée", "stepIndex": 0}).text)
    text = "".join(deltas(events))
    assert "brûlée" in text
    assert json.loads(text)["title"] == "crème brûlée"


def test_through_the_sdk_the_deltas_join_into_the_final_output(client: Noukai) -> None:
    with client.flow(FLOW).events("ship it today", run_remaining=True) as stream:
        events = list(stream)
    text = "".join(e.output_data["delta"] for e in events if isinstance(e, StepOutput))
    completed = [e for e in events if isinstance(e, StepCompleted)]
    assert json.loads(text) == completed[0].output == EXPECTED


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("{id: a, type: llm, stream: true}", "is for structured blocks"),
        ("{id: a, type: structured, stream: 'yes', fields: {x: '{message}'}}", "true or false"),
    ],
)
def test_stream_is_only_for_structured_blocks(tmp_path: Path, block: str, message: str) -> None:
    flow = tmp_path / "flows" / "acme" / "shop" / "bad.yaml"
    flow.parent.mkdir(parents=True)
    flow.write_text(f"blocks: [{block}]\n")
    done = subprocess.run(
        [*DEV_SERVER, "--port", "0", "--db", ":memory:", "--flows", str(tmp_path / "flows")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "bad.yaml" in done.stderr and message in done.stderr
