"""Every ```python block of README.md runs as a user pasting it would, against a real dev server.

Each block runs in a fresh interpreter (one subprocess per block) in an empty working directory,
with ``NOUKAI_API_KEY``, ``NOUKAI_ENV=dev`` and ``NOUKAI_DEV_PORT`` pointing at the session's dev
server: the environment the README's Usage section asks the reader to export. A block that cannot
run by itself (a production key, your own app object, a test module needing your cassette) is
marked with the HTML comment ``<!-- fragment -->`` on the line right before its opening fence;
fragments are only compiled. Test ids name the README section a block sits in, so a failure points
at it; a section added to the README is checked as soon as it lands.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from noukai_sdk.devserver.process import DevServerProcess

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FRAGMENT_MARKER = "<!-- fragment"
PYTHON_FENCES = {"python", "py"}


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README, with the section it sits in."""

    section: str
    language: str
    code: str
    line: int
    fragment: bool


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block of ``text`` in order (fences may be indented, as inside a list)."""
    blocks: list[Block] = []
    section = "top"
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if heading := re.match(r"#{1,6}\s+(.*)", line):
            section = heading.group(1).strip()
        fence = re.match(r"(\s*)(`{3,})\s*([\w+-]*)", line)
        if fence is None:
            index += 1
            continue
        indent, ticks, language = fence.groups()
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines) and not lines[index].strip().startswith(ticks):
            body.append(lines[index].removeprefix(indent))
            index += 1
        assert index < len(lines), f"README.md line {start + 1}: unterminated code block"
        before = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        blocks.append(
            Block(
                section=section,
                language=language.lower(),
                code="\n".join(body) + "\n",
                line=start + 1,
                fragment=before.strip().startswith(FRAGMENT_MARKER),
            )
        )
        index += 1
    return blocks


def _slug(section: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", section.lower()).strip("-") or "top"


def _with_ids(blocks: list[Block]) -> list[pytest.ParameterSet]:
    """One pytest param per block, named ``<section-slug>`` (``-2``, ``-3``... for later blocks)."""
    seen: dict[str, int] = {}
    params: list[pytest.ParameterSet] = []
    for block in blocks:
        slug = _slug(block.section)
        seen[slug] = seen.get(slug, 0) + 1
        name = slug if seen[slug] == 1 else f"{slug}-{seen[slug]}"
        params.append(pytest.param(block, id=name))
    return params


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
PYTHON_BLOCKS = [block for block in BLOCKS if block.language in PYTHON_FENCES]
RUNNABLE = [block for block in PYTHON_BLOCKS if not block.fragment]
FRAGMENTS = [block for block in PYTHON_BLOCKS if block.fragment]


def run_python(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter run on ``args`` to completion, as a user's shell would start it."""
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _where(block: Block) -> str:
    return f"README.md line {block.line} ({block.section})"


@pytest.mark.parametrize("block", _with_ids(RUNNABLE))
def test_readme_block_runs(
    block: Block, dev_server: DevServerProcess, tmp_path: Path, readme_env: dict[str, str]
) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(block.code, encoding="utf-8")
    done = run_python(str(script), env=readme_env, cwd=tmp_path)
    if done.returncode != 0:
        pytest.fail(f"{_where(block)} failed:\n{done.stderr[-3000:]}", pytrace=False)


@pytest.mark.parametrize("block", _with_ids(FRAGMENTS))
def test_readme_fragment_compiles(block: Block) -> None:
    compile(block.code, _where(block), "exec")


def test_readme_has_runnable_blocks() -> None:
    """The extraction found the README's snippets; a parser bug must not turn this file green."""
    assert len(RUNNABLE) >= 10
    assert len(RUNNABLE) > len(FRAGMENTS)


def test_fragment_markers_sit_on_python_blocks() -> None:
    """A marker that no longer precedes a python block would silently stop covering anything."""
    lines = README.read_text(encoding="utf-8").splitlines()
    marked_lines = {
        i + 1 for i, line in enumerate(lines) if line.strip().startswith(FRAGMENT_MARKER)
    }
    covered = set[int]()
    for block in FRAGMENTS:
        covered.add(max(n for n in marked_lines if n < block.line))
    assert marked_lines == covered, (
        f"stray fragment markers on lines {sorted(marked_lines - covered)}"
    )


def test_parser_reads_sections_fences_and_markers() -> None:
    text = (
        "## Usage\n\n### Tools\n\n<!-- fragment: your app -->\n```python\napp.run()\n```\n\n"
        "- a list item:\n\n  ```python\n  import json\n  ```\n\n```bash\nls\n```\n"
    )
    blocks = readme_blocks(text)
    assert [(b.section, b.language, b.fragment, b.code) for b in blocks] == [
        ("Tools", "python", True, "app.run()\n"),
        ("Tools", "python", False, "import json\n"),
        ("Tools", "bash", False, "ls\n"),
    ]


def test_quick_start_output_is_what_the_readme_shows() -> None:
    """The quick start's script, run with its README arguments, prints the README's sample output."""
    quick_start = [b for b in BLOCKS if b.section.startswith("Quick start")]
    command, shown = quick_start[0].code, quick_start[1].code
    run = re.search(r"\.venv/bin/python (examples/\S+\.py)(.*)$", command.strip())
    assert run is not None, command
    assert "'.[devserver]'" in command, "the quick start installs the dev server extra"
    arguments = re.findall(r'"([^"]*)"', run.group(2))
    done = run_python(str(ROOT / run.group(1)), *arguments, env=_base_env())
    assert done.returncode == 0, done.stderr[-3000:]
    printed = done.stdout.splitlines()
    expected = shown.strip().splitlines()
    assert len(printed) == len(expected), done.stdout
    for got, want in zip(printed, expected, strict=True):
        pattern = ".*".join(re.escape(part) for part in want.split("…"))
        assert re.fullmatch(pattern, got), (got, want)


def test_dev_server_section_cli_run_works(dev_server: DevServerProcess) -> None:
    """The dev-server section's ``noukai run … --env dev`` line, against a server on another port."""
    section = next(b for b in BLOCKS if b.section == "The dev server" and b.language == "bash")
    line = next(ln for ln in section.code.splitlines() if ln.startswith("noukai run "))
    command = line.split("#", 1)[0].split()
    env = {k: v for k, v in _base_env().items() if k != "NOUKAI_API_KEY"}
    env["NOUKAI_DEV_PORT"] = str(dev_server.port)
    done = run_python("-m", "noukai_sdk.cli", *[a.strip('"') for a in command[1:]], env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "You said: hi" in done.stdout


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("NOUKAI_")}


@pytest.fixture
def readme_env(dev_server: DevServerProcess) -> dict[str, str]:
    """The environment the README asks for: the dev server's key, ``dev`` and its port."""
    env = _base_env()
    env.update(
        NOUKAI_API_KEY=dev_server.api_key,
        NOUKAI_ENV="dev",
        NOUKAI_DEV_PORT=str(dev_server.port),
        PYTHONPATH=str(ROOT),
    )
    return env


def test_readme_installs_name_real_extras() -> None:
    """Every ``pip install …[extras]`` of the README names extras pyproject defines."""
    from importlib import metadata

    defined = set(metadata.metadata("noukai-sdk").get_all("Provides-Extra") or [])
    named = re.findall(r"pip install[^\n`]*?(?:noukai-sdk|\.)\[([\w,-]+)\]", README.read_text())
    assert named, "the README shows how to install extras"
    for extras in named:
        assert set(extras.split(",")) <= defined, extras


def test_readme_nox_sessions_exist() -> None:
    """Every ``nox -s NAME`` of the README names a session of noxfile.py."""
    import ast

    tree = ast.parse((ROOT / "noxfile.py").read_text())
    sessions = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and any("session" in ast.unparse(decorator) for decorator in node.decorator_list)
    }
    named = re.findall(r"nox -s ([^`\n]*)", README.read_text())
    assert named, "the README shows nox sessions"
    for names in named:
        for name in names.partition(" -- ")[0].split():
            assert re.sub(r"-3\.\d+$", "", name) in sessions, name
