"""Type checkers see generated models with snake_case constructor keywords and precise unions.

The snippet below is user-style code; mypy (with the pydantic plugin) and pyright, both strict, must
accept it, and must reject the misspelt/wire-name variant, so the check cannot pass vacuously.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

ACCEPTED = textwrap.dedent(
    """
    from __future__ import annotations

    from typing import Any

    from noukai_sdk_generated.api.flows import execute_flow_version
    from noukai_sdk_generated.models import ChatMessage, ExecuteRequest, StepCompleted, StepRequest
    from noukai_sdk_generated.unions import EVENT_MODELS, Event


    def body() -> dict[str, Any]:
        message = ChatMessage(role="tool", tool_call_id="tc-1", content="ok")
        request = ExecuteRequest(
            messages=[message], block_overrides={"s": {}}, tool_choice="auto", iterations_used=0
        )
        built = execute_flow_version.build_request(
            org="o", project="p", slug="s", version=2, body=request, x_session_id="sid"
        )
        StepRequest(execution_id="e", step_index=1, run_remaining=True)
        assert built["url"].startswith("/seq/")
        return request.to_wire()


    def cost(raw: bytes) -> str | None:
        event: Event = EVENT_MODELS["step_completed"].model_validate_json(raw)
        if isinstance(event, StepCompleted):
            return event.cost_usd
        return None
    """
)

REJECTED = textwrap.dedent(
    """
    from __future__ import annotations

    from noukai_sdk_generated.models import StepCompleted

    duration: int = StepCompleted(step_id="s").cost_usd
    """
)


def run_checker(tool: str, source: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    module = tmp_path / "user_code.py"
    module.write_text(source, encoding="utf-8")
    if tool == "mypy":
        command = [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(REPO / "pyproject.toml"),
            str(module),
        ]
    else:
        command = [sys.executable, "-m", "pyright", "--pythonpath", sys.executable, str(module)]
    return subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("tool", ["mypy", "pyright"])
def test_user_code_type_checks(tool: str, tmp_path: Path) -> None:
    pytest.importorskip(tool, reason="needs the `typecheck` extra")
    result = run_checker(tool, ACCEPTED, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("tool", ["mypy", "pyright"])
def test_wrong_field_types_are_rejected(tool: str, tmp_path: Path) -> None:
    pytest.importorskip(tool, reason="needs the `typecheck` extra")
    result = run_checker(tool, REJECTED, tmp_path)
    assert result.returncode != 0
    assert "user_code.py:6" in result.stdout
