"""``noukai completion bash|zsh`` prints a script that completes commands, options and choices."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from noukai_sdk.cli import main


def script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def complete(bash_script: str, *words: str) -> list[str]:
    """What bash offers for the last word of ``noukai <words>``."""
    line = " ".join(f"'{word}'" for word in ("noukai", *words))
    program = f"""{bash_script}
COMP_WORDS=({line}); COMP_CWORD={len(words)}; _noukai; printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_bash_completes_commands_options_and_choices(capsys: pytest.CaptureFixture[str]) -> None:
    bash = script("bash", capsys)
    assert complete(bash, "ru") == ["run"]
    assert set(complete(bash, "job", "")) >= {"submit", "status", "wait"}
    assert "--concurrency" in complete(bash, "map", "--")
    assert complete(bash, "run", "x", "--format", "") == ["text", "json", "jsonl"]
    assert complete(bash, "job", "status", "--format", "") == ["text", "json"]
    assert {"bash", "zsh"} <= set(complete(bash, "completion", ""))


def test_zsh_loads_the_same_completion_through_bashcompinit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    zsh = script("zsh", capsys)
    assert zsh.startswith("autoload -U +X bashcompinit && bashcompinit\n")
    assert zsh.endswith(script("bash", capsys))
    if shutil.which("zsh"):
        subprocess.run(["zsh", "-n", "-c", zsh], check=True)
