"""`python -m generator --check` passes on the committed tree and fails, with a diff, on drift.

Drift is produced on a temporary copy of the repository's spec, templates and generated package;
the real files are never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# The generator needs the `generate` extra (openapi-python-client, ruff); skip visibly without it.
pytest.importorskip("openapi_python_client", reason="needs the `generate` extra")
pytest.importorskip("ruff", reason="needs the `generate` extra")


def run_generator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    shutil.copyfile(REPO / "openapi.yaml", tmp_path / "openapi.yaml")
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    shutil.copytree(
        REPO / "noukai_sdk_generated",
        tmp_path / "noukai_sdk_generated",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return tmp_path


def test_committed_package_is_up_to_date() -> None:
    result = run_generator("--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_every_generated_file_says_it_must_not_be_edited() -> None:
    for path in (REPO / "noukai_sdk_generated").rglob("*.py"):
        first_line = path.read_text(encoding="utf-8").splitlines()[0]
        assert "from openapi.yaml" in first_line and "Do not edit" in first_line, path


def test_editing_the_spec_without_regenerating_fails_with_a_diff(repo_copy: Path) -> None:
    spec = repo_copy / "openapi.yaml"
    text = spec.read_text(encoding="utf-8")
    anchor = "        error:\n          type: string\n          description: Why the job failed.\n"
    assert anchor in text
    spec.write_text(
        text.replace(anchor, anchor + "        queuePosition:\n          type: integer\n"),
        encoding="utf-8",
    )

    stale = run_generator("--check", "--root", str(repo_copy))

    assert stale.returncode != 0
    assert "--- committed/noukai_sdk_generated/models/job_status.py" in stale.stdout
    assert "+++ generated/noukai_sdk_generated/models/job_status.py" in stale.stdout
    assert '+    "queue_position": "queuePosition",' in stale.stdout
    assert "+    queue_position: int | None = None" in stale.stdout
    assert "stale" in stale.stderr

    regenerated = run_generator("--root", str(repo_copy))
    assert regenerated.returncode == 0, regenerated.stderr
    assert run_generator("--check", "--root", str(repo_copy)).returncode == 0


def test_a_hand_edit_of_the_generated_package_is_detected(repo_copy: Path) -> None:
    module = repo_copy / "noukai_sdk_generated" / "unions.py"
    module.write_text(module.read_text(encoding="utf-8") + "HAND_EDIT = 1\n", encoding="utf-8")
    (repo_copy / "noukai_sdk_generated" / "stray.py").write_text("x = 1\n", encoding="utf-8")

    result = run_generator("--check", "--root", str(repo_copy))

    assert result.returncode != 0
    assert "-HAND_EDIT = 1" in result.stdout
    assert "--- committed/noukai_sdk_generated/stray.py" in result.stdout


def test_generation_is_deterministic(repo_copy: Path) -> None:
    before = {
        path.relative_to(repo_copy): path.read_bytes()
        for path in (repo_copy / "noukai_sdk_generated").rglob("*")
        if path.is_file()
    }
    assert run_generator("--root", str(repo_copy)).returncode == 0
    after = {
        path.relative_to(repo_copy): path.read_bytes()
        for path in (repo_copy / "noukai_sdk_generated").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert after == before
