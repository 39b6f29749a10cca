"""The generator's own tools, installed from the project's ``generate`` extra when missing.

``python -m generator`` needs openapi-python-client, ruamel.yaml, jinja2 and ruff in the running
interpreter. On a fresh machine that only has Python, it builds a private virtualenv under
``.nox/generator-tools`` (ignored by git) with exactly the ``generate`` extra of pyproject.toml and
runs itself there, so the drift check works without any hand-installed package.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import venv
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
_MODULES = ("openapi_python_client", "ruamel.yaml", "jinja2", "ruff")
_IN_TOOLS_ENV = "NOUKAI_GENERATOR_TOOLS"
"""Set in the child run, so that a tool still missing there is an error, never a loop."""


def missing_tools() -> list[str]:
    """The tool modules this interpreter cannot import."""
    missing = []
    for name in _MODULES:
        try:
            found = importlib.util.find_spec(name)
        except ModuleNotFoundError:  # the parent package (``ruamel``) is absent
            found = None
        if found is None:
            missing.append(name)
    return missing


def generate_requirements(root: Path) -> list[str]:
    """The ``generate`` extra of ``root/pyproject.toml``: the one list of the generator's tools."""
    import tomllib

    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements: list[str] = project["optional-dependencies"]["generate"]
    return requirements


def rerun_with_tools(root: Path, argv: list[str]) -> int:
    """Run ``python -m generator argv`` in a virtualenv that has the ``generate`` extra."""
    if os.environ.get(_IN_TOOLS_ENV):
        sys.stderr.write(f"generation failed: still missing after install: {missing_tools()}\n")
        return 2
    if sys.version_info < (3, 11):
        sys.stderr.write(
            "generation failed: openapi-python-client needs Python 3.11 or later; run "
            "`nox -s check_generated` (or `nox -s generate`), which picks one.\n"
        )
        return 2
    home = root / ".nox" / "generator-tools"
    python = home / "bin" / "python"
    if not python.exists():
        sys.stderr.write(f"installing the generator's tools (the `generate` extra) into {home}\n")
        venv.EnvBuilder(with_pip=True, clear=True).create(home)
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    done = subprocess.run([*install, *generate_requirements(root)], check=False)
    if done.returncode != 0:
        sys.stderr.write("generation failed: could not install the `generate` extra.\n")
        return 2
    child = [str(python), "-m", "generator", *argv]
    environment = {**os.environ, _IN_TOOLS_ENV: "1"}
    return subprocess.run(child, cwd=root, env=environment, check=False).returncode
