"""docs/architecture.md names only modules and folders that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
PATH = re.compile(r"(?<![\w/.])((?:noukai_sdk|tests|docs|benchmarks)/[\w/.]*\w/?)")


def named_paths() -> set[str]:
    return set(PATH.findall(DOC.read_text(encoding="utf-8")))


def test_the_architecture_page_names_paths() -> None:
    assert len(named_paths()) > 20


def test_every_path_the_architecture_page_names_exists() -> None:
    missing = sorted(path for path in named_paths() if not (ROOT / path).exists())
    assert missing == []
