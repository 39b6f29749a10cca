"""Every script in examples/ runs to completion against a dev server it starts itself."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SERVERS = {"relay_fastapi.py", "relay_flask.py"}  # serve until Ctrl-C; relay_client.py drives them
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if p.name not in SERVERS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example prints what it did"


@pytest.mark.parametrize("script", sorted(SERVERS))
def test_server_example_imports(script: str) -> None:
    spec = importlib.util.spec_from_file_location(f"example_{script[:-3]}", EXAMPLES / script)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
