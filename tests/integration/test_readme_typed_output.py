"""The README's "Structured output" and "Usage" code blocks run as written against the dev server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from noukai_sdk.devserver.process import DevServerProcess

README = Path(__file__).resolve().parents[2] / "README.md"
SECTIONS = ("Structured output", "Usage")


def python_blocks(section: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^### {re.escape(section)}\n(.*?)(?=^#{{2,3}} )", text, re.M | re.S)
    assert match, f"README has no '### {section}' section"
    return re.findall(r"^```python\n(.*?)^```$", match.group(1), re.M | re.S)


@pytest.mark.parametrize("section", SECTIONS)
def test_readme_section_runs(
    section: str,
    dev_server: DevServerProcess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The environment the README's Usage section asks the reader to export.
    monkeypatch.setenv("NOUKAI_API_KEY", dev_server.api_key)
    monkeypatch.setenv("NOUKAI_ENV", "dev")
    monkeypatch.setenv("NOUKAI_DEV_PORT", str(dev_server.port))
    blocks = python_blocks(section)
    assert blocks
    for block in blocks:
        exec(compile(block, f"README.md ({section})", "exec"), {})
    assert capsys.readouterr().out.strip()
