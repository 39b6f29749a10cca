"""The code blocks of the README's "Streaming text and objects" and "Resumable streams" run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import DevServerProcess

README = Path(__file__).resolve().parents[2] / "README.md"
SECTIONS = ["### Streaming text and objects", "### Resumable streams"]


def code_blocks(heading: str) -> list[str]:
    text = README.read_text()
    start = text.index(heading + "\n")
    end = text.find("\n### ", start + len(heading))
    section = text[start : end if end >= 0 else len(text)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.mark.parametrize("heading", SECTIONS)
def test_readme_section_runs(
    heading: str,
    dev_server: DevServerProcess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NOUKAI_API_KEY", dev_server.api_key)
    monkeypatch.setenv("NOUKAI_DEV_PORT", str(dev_server.port))
    blocks = code_blocks(heading)
    assert blocks
    for block in blocks:
        exec(compile(block, f"README {heading}", "exec"), {"__name__": "readme"})
    assert capsys.readouterr().out.strip()
