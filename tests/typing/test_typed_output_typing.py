"""``output_type=`` types follow the argument under mypy --strict and pyright strict, both clients."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
CHECKERS = {
    "mypy": [sys.executable, "-m", "mypy", "--strict", "--no-incremental"],
    "pyright": [sys.executable, "-m", "pyright", "--pythonpath", sys.executable],
}
MISUSE = """\
# pyright: strict
from pydantic import BaseModel
from typing_extensions import assert_type
from noukai_sdk import Noukai

class Invoice(BaseModel):
    total: float

def check(noukai: Noukai) -> None:
    result = noukai.flow("o/p/s").execute("hi", tool_handler=lambda calls: [], output_type=Invoice)
    assert_type(result.parsed, str)
"""


def check(checker: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHECKERS[checker], str(path)], capture_output=True, text=True, cwd=ROOT, check=False
    )


@pytest.mark.parametrize("checker", sorted(CHECKERS))
def test_output_type_usage_type_checks(checker: str) -> None:
    result = check(checker, HERE / "typed_output_usage.py")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("checker", sorted(CHECKERS))
def test_a_wrong_parsed_type_is_caught(checker: str, tmp_path: Path) -> None:
    """Guards the test above against passing vacuously."""
    bad = tmp_path / "typed_output_misuse.py"
    bad.write_text(MISUSE)
    result = check(checker, bad)
    assert result.returncode != 0
    assert "Invoice" in result.stdout
