"""Every script in examples/ runs with only the extras its docstring names, and SIGTERM stops it.

Each example says ``Needs pip install 'noukai-sdk[...]'``; the test runs it with the modules of every
other extra made unimportable (a ``sitecustomize`` on ``PYTHONPATH``, so the dev-server child
process is held to the same install), the way a user who installed just those extras runs it.
"""

from __future__ import annotations

import ast
import os
import re
import signal
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SERVERS = {"relay_fastapi.py", "relay_flask.py"}  # serve until stopped; relay_client.py drives them
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if p.name not in SERVERS)

# The extras a user picks from; the others (test, dev, ...) are for working on the SDK.
USER_EXTRAS = ("devserver", "cli", "fastapi", "flask", "otel")


def _installed_closure(extras: set[str]) -> set[str]:
    """The distributions ``pip install 'noukai-sdk[extras]'`` brings, as installed here."""
    wanted = [Requirement(r) for r in metadata.requires("noukai-sdk") or []]
    wanted = [
        r
        for r in wanted
        if r.marker is None or any(r.marker.evaluate({"extra": e}) for e in extras)
    ]
    found: set[str] = set()
    while wanted:
        requirement = wanted.pop()
        name = canonicalize_name(requirement.name)
        if name in found or name == "noukai-sdk":
            continue
        found.add(name)
        for line in metadata.requires(name) or []:
            dependency = Requirement(line)
            if dependency.marker is None or dependency.marker.evaluate({"extra": ""}):
                wanted.append(dependency)
    return found


def _modules_of(distributions: set[str]) -> set[str]:
    """The top-level modules the ``distributions`` installed, read from their file lists.

    (``packages_distributions()`` cannot be used: on Python 3.10 it only reads ``top_level.txt``,
    which most modern wheels do not ship.)
    """
    modules: set[str] = set()
    for name in distributions:
        try:
            files = metadata.distribution(name).files or []
        except metadata.PackageNotFoundError:
            continue
        for file in files:
            top = file.parts[0] if file.parts else ""
            if (
                not top
                or top.endswith((".dist-info", ".egg-info", ".pth"))
                or top in ("..", "__pycache__")
            ):
                continue
            modules.add(top.removesuffix(".py").split(".", 1)[0] if top.endswith(".py") else top)
    return modules


def absent_modules(extras: set[str]) -> set[str]:
    """Top-level modules of the user extras that an install of just ``extras`` would not have."""
    everything = _modules_of(_installed_closure(set(USER_EXTRAS)))
    return everything - _modules_of(_installed_closure(extras))


_SITECUSTOMIZE = '''\
import os
import sys

_ABSENT = set(filter(None, os.environ.get("NOUKAI_TEST_ABSENT_MODULES", "").split(",")))


class _NotInstalled:
    """Acts as if the extras an example does not declare were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _ABSENT:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
'''


def declared_extras(script: str) -> set[str]:
    """The extras named by the ``pip install 'noukai-sdk[...]'`` of the script's docstring."""
    docstring = ast.get_docstring(ast.parse((EXAMPLES / script).read_text())) or ""
    found = re.search(r"pip install 'noukai-sdk\[([\w,]+)\]'", docstring)
    assert found is not None, f"{script}'s docstring names the extra it needs"
    return set(found.group(1).split(","))


@pytest.fixture(scope="module")
def sitecustomize_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("only-declared-extras")
    (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    return folder


def environment_with_only(extras: set[str], sitecustomize_dir: Path) -> dict[str, str]:
    """``os.environ`` for a child that can import the base install and ``extras`` only."""
    absent = absent_modules(extras)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOUKAI_")}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(sitecustomize_dir), env.get("PYTHONPATH")])
    )
    env["NOUKAI_TEST_ABSENT_MODULES"] = ",".join(sorted(absent))
    return env


def run_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """This interpreter run on ``args`` to completion, its output captured."""
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_with_its_declared_extras(script: str, sitecustomize_dir: Path) -> None:
    done = run_python(
        str(EXAMPLES / script),
        env=environment_with_only(declared_extras(script), sitecustomize_dir),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "an example prints what it did"


def test_an_undeclared_extra_is_really_absent(sitecustomize_dir: Path) -> None:
    """The stand-in for a smaller install works, or the test above would prove nothing."""
    done = run_python(
        "-c", "import fastapi", env=environment_with_only({"devserver"}, sitecustomize_dir)
    )
    assert done.returncode != 0
    assert "No module named 'fastapi'" in done.stderr
    assert {"fastapi", "flask", "rich"} <= absent_modules({"devserver"})
    assert {"uvicorn", "yaml", "starlette"}.isdisjoint(absent_modules({"devserver"}))


def test_examples_needing_more_than_the_quick_start_are_named_in_the_readme() -> None:
    readme = (EXAMPLES.parent / "README.md").read_text()
    for script in sorted(p.name for p in EXAMPLES.glob("*.py")):
        extras = declared_extras(script) - {"devserver"}
        assert script in readme, f"the README's Examples section lists {script}"
        for extra in extras:
            assert f"[devserver,{extra}]" in readme, f"the README says {script} needs [{extra}]"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (every thread's children, from /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _is_dev_server(pid: int) -> bool:
    try:
        return b"noukai_sdk.devserver" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("script", sorted(SERVERS))
def test_sigterm_stops_the_examples_dev_server(script: str, sitecustomize_dir: Path) -> None:
    example = subprocess.Popen(
        [sys.executable, str(EXAMPLES / script), str(_free_port())],
        env=environment_with_only(declared_extras(script), sitecustomize_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    dev_servers: list[int] = []
    try:
        assert example.stdout is not None
        ready = example.stdout.readline()  # printed once its dev server is up
        assert ready.startswith("relay on http://127.0.0.1:"), ready + example.stderr.read()
        dev_servers = [pid for pid in _children(example.pid) if _is_dev_server(pid)]
        assert len(dev_servers) == 1, "the example runs one dev server as its child"

        example.send_signal(signal.SIGTERM)
        _, stderr = example.communicate(timeout=60)

        # The example waited for its child: the pid is gone, not re-parented and still serving.
        assert not _is_dev_server(dev_servers[0]), "the dev server outlived its example"
        assert example.returncode in (0, 128 + signal.SIGTERM), stderr
        assert "Traceback" not in stderr
    finally:
        if example.poll() is None:
            example.kill()
            example.wait()
        for pid in dev_servers:
            if _is_dev_server(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("script", sorted(SERVERS))
def test_server_example_imports(script: str) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"example_{script[:-3]}", EXAMPLES / script)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
