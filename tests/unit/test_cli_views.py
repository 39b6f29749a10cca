"""The live view of ``noukai run`` without rich or a terminal: plain step lines and streamed text."""

from __future__ import annotations

import pytest

from noukai_sdk import (
    FlowCompleted,
    StepCompleted,
    StepFailed,
    StepOutput,
    StepProgress,
    StepStarted,
)
from noukai_sdk.cli._run_views import JsonLinesView, LiveView


def test_steps_appear_with_duration_tokens_and_cost(capsys: pytest.CaptureFixture[str]) -> None:
    view = LiveView()
    for event in (
        StepStarted(step_id="stream", name="Stream"),
        StepProgress(step_id="stream", message="warming up"),
        StepOutput(step_id="stream", output_data={"delta": "Hello"}),
        StepOutput(step_id="stream", output_data={"delta": " world"}),
        StepCompleted.model_validate(
            {"stepId": "stream", "durationMs": 1500, "tokens": {"total": 12}, "costUsd": "0.00002"}
        ),
        StepStarted(step_id="boom"),
        StepFailed(step_id="boom", error={"code": "X"}),
        FlowCompleted(result="Hello world"),
    ):
        view.handle(event)
    view.close()
    out, err = capsys.readouterr()
    assert out == "Hello world\n"
    assert err.splitlines() == [
        "▸ Stream",
        "▸ Stream — warming up",
        "✓ Stream  1.5 s · 12 tokens · $0.000020",
        "▸ boom",
        "✗ boom  failed",
    ]
    assert view.streamed_result


def test_a_result_that_was_not_streamed_is_still_to_print(
    capsys: pytest.CaptureFixture[str],
) -> None:
    view = LiveView()
    view.handle(StepOutput(step_id="a", output_data={"delta": "draft"}))
    view.handle(StepCompleted(step_id="a"))
    view.handle(FlowCompleted(result={"final": True}))
    assert not view.streamed_result
    assert capsys.readouterr().err == "✓ a  - · - · -\n"


def test_json_lines_use_the_api_field_names(capsys: pytest.CaptureFixture[str]) -> None:
    JsonLinesView().handle(StepOutput(step_id="s", output_data={"delta": "x"}))
    assert (
        capsys.readouterr().out
        == '{"eventType":"step_output","stepId":"s","outputData":{"delta":"x"}}\n'
    )
