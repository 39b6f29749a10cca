"""The streaming helpers type-check in user code under mypy --strict and pyright strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
USAGE = HERE / "streaming_usage.py"


def test_streaming_helpers_type_check_under_mypy() -> None:
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(USAGE)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_streaming_helpers_type_check_under_pyright() -> None:
    pyright = Path(sys.executable).with_name("pyright")
    command = [str(pyright), "--pythonpath", sys.executable, str(USAGE)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent.parent)
    assert result.returncode == 0, result.stdout + result.stderr
