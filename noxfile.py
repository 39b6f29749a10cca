"""Project tasks: tests on every Python 3.10-3.13 found, lint, typecheck, generation, spec."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

nox.options.sessions = ["lint", "typecheck", "spec", "check_generated", "tests", "compat"]
# Missing interpreters are skipped, not failed (nox fails by default when CI is set).
nox.options.error_on_missing_interpreters = False
# uv builds a session's environment in seconds where pip takes a minute; plain virtualenv + pip
# when uv is not installed.
nox.options.default_venv_backend = "uv|virtualenv"

# What runs on every interpreter. The static typing tests (they run mypy and pyright on user code,
# which does not depend on the interpreter running the tests) belong to `typecheck`, and the
# published 0.2.0 client's check to `compat`: once each instead of four times.
PER_INTERPRETER_SUITES = ["tests/unit", "tests/contract"]
# Tests run in one worker process per core (pytest-xdist): integration tests mostly wait on the
# dev-server process, and every worker starts its own server on a free port.
PARALLEL = ["-n", "auto", "--dist", "loadscope"]


def _expose_pyenv_interpreters() -> None:
    """Put every pyenv-installed 3.10-3.13 on PATH so nox finds them without PYENV_VERSION."""
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return
    try:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return
    versions = Path(root.strip()) / "versions"
    found = [
        str(path / "bin")
        for version in PYTHONS
        for path in sorted(versions.glob(f"{version}.*"))
        if (path / "bin" / f"python{version}").exists()
    ]
    os.environ["PATH"] = os.pathsep.join([*found, os.environ.get("PATH", "")])


_expose_pyenv_interpreters()


def _oldest_interpreter() -> str | None:
    """The oldest of PYTHONS on this machine."""
    return next((version for version in PYTHONS if shutil.which(f"python{version}")), None)


# The integration suite (two thirds of a session's time: it starts dev-server, CLI and example
# processes) runs on the oldest interpreter found, where version differences have shown so far;
# the unit suite, which drives every protocol on both client kinds, runs on all of them.
# `nox -s tests-3.13 -- tests/integration` runs it on another one.
INTEGRATION_PYTHON = _oldest_interpreter()

# The suite starts many Python processes (dev servers, the CLI, examples). Without bytecode files
# each of them compiles the SDK and its dependencies again: uv compiles what it installs, and a
# PYTHONDONTWRITEBYTECODE inherited from the environment is dropped for the sessions.
os.environ["UV_COMPILE_BYTECODE"] = "1"
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Unit and contract tests, and on the oldest interpreter the integration tests (a real dev
    server over TCP); ``-- PATHS`` runs those paths instead."""
    session.install("-e", ".[all,test]")
    suites = list(PER_INTERPRETER_SUITES)
    if session.python == INTEGRATION_PYTHON:
        suites.append("tests/integration")
    session.run("python", "-m", "pytest", *PARALLEL, *(session.posargs or suites))


@nox.session(python="3.11")
def compat(session: nox.Session) -> None:
    """The published noukai-sdk 0.2.0 client, unmodified, against our dev server (port 8080)."""
    session.install("-e", ".[all,test]")
    session.run("python", "-m", "pytest", "tests/compat", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict and pyright (strict) on the package, the generated code and the examples, and
    on user code of the public API (``assert_type``): tests/typing, the two checkers side by side."""
    session.install("-e", ".[all,test,typecheck]")
    session.run(
        "python", "-m", "pytest", "-n", "2", "--dist", "loadgroup", "tests/typing", *session.posargs
    )


@nox.session(python="3.11")
def generate(session: nox.Session) -> None:
    """Regenerate noukai_sdk_generated/ from openapi.yaml."""
    session.install("-e", ".[generate]")
    session.run("python", "-m", "generator")


@nox.session(python="3.11")
def check_generated(session: nox.Session) -> None:
    """Fail with a diff when noukai_sdk_generated/ is stale against openapi.yaml."""
    session.install("-e", ".[generate]")
    session.run("python", "-m", "generator", "--check")


@nox.session(python="3.11")
def spec(session: nox.Session) -> None:
    """Validate openapi.yaml against the OpenAPI 3.1 schema."""
    session.install("openapi-spec-validator>=0.7")
    session.run("openapi-spec-validator", "openapi.yaml")
