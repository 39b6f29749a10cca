"""The public client API type-checks in user code under mypy --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def test_user_code_type_checks() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            str(HERE / "client_usage.py"),
        ],
        capture_output=True,
        text=True,
        cwd=HERE.parent.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_type_errors_are_caught() -> None:
    """Guards the test above against passing vacuously: a misuse must fail the check."""
    bad = HERE / "_client_misuse_tmp.py"
    bad.write_text(
        "from noukai_sdk import Noukai\n"
        "client = Noukai('nk_x')\n"
        "client.flow('o/p/s').execute('hi', version=1.5)\n"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(bad)],
            capture_output=True,
            text=True,
            cwd=HERE.parent.parent,
        )
    finally:
        bad.unlink()
    assert result.returncode != 0
    assert "version" in result.stdout
