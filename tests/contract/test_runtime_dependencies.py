"""The declared dependencies are exactly what the code imports: none unused, none missing.

``pip install noukai-sdk`` installs the runtime dependencies only: they must be exactly the
third-party distributions the package's own code imports while it runs. Each extra names what its
feature imports (the generator, the CLI), and httpx2 is only ever a test dependency.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest depends on tomli before 3.11
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"noukai_sdk", "noukai_sdk_generated", "generator"}
FEATURE_EXTRAS = {"devserver", "cli", "fastapi", "flask", "otel"}


@cache
def project() -> dict[str, Any]:
    with (REPO / "pyproject.toml").open("rb") as file:
        table: dict[str, Any] = tomllib.load(file)["project"]
    return table


def names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(line).name) for line in requirements}


def runtime_dependencies() -> set[str]:
    return names(project()["dependencies"])


def extra(name: str) -> list[str]:
    requirements: list[str] = project()["optional-dependencies"][name]
    return requirements


def top_level_modules_of(distribution: str) -> set[str]:
    """The top-level modules an installed distribution provides, read from its file list."""
    modules: set[str] = set()
    for file in metadata.distribution(distribution).files or []:
        top = file.parts[0]
        if top in ("..", "__pycache__") or top.endswith((".dist-info", ".data", ".pth")):
            continue
        modules.add(top if len(file.parts) > 1 else top.partition(".")[0])
    return modules


def third_party(modules: set[str]) -> set[str]:
    return modules - FIRST_PARTY - set(sys.stdlib_module_names)


def assert_imports_match(imported: set[str], declared: set[str], *, exactly: bool) -> None:
    """Every third-party module in ``imported`` comes from a ``declared`` distribution (and, when
    ``exactly``, every declared distribution provides one of them)."""
    provided = {name: top_level_modules_of(name) for name in declared}
    undeclared = third_party(imported) - set().union(*provided.values())
    assert not undeclared, f"imported but not declared: {sorted(undeclared)}"
    if exactly:
        unused = {name for name, modules in provided.items() if not modules & imported}
        assert not unused, f"declared but not imported: {sorted(unused)}"


def imported_top_level_modules(folder: Path, *, skip: frozenset[str] = frozenset()) -> set[str]:
    """Every absolute import in a source tree, lazy ones inside functions included."""
    modules: set[str] = set()
    for path in folder.rglob("*.py"):
        if path.name in skip:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.partition(".")[0])
    return modules


# Records every module the package's own code imports while it is imported, its lazy names are
# resolved, every generated module is loaded and clients are built (dependencies' own optional
# imports, such as httpx loading click when it is installed, are theirs, not ours).
_TRACE_RUNTIME_IMPORTS = """
import builtins, json, pkgutil, sys
ours = ("noukai_sdk", "noukai_sdk_generated")
imported = set()
real_import = builtins.__import__
def tracing_import(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__") or ""
    if level == 0 and importer.partition(".")[0] in ours:
        imported.add(name.partition(".")[0])
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = tracing_import
import noukai_sdk, noukai_sdk_generated
for name in noukai_sdk.__all__:
    getattr(noukai_sdk, name)
for module in pkgutil.walk_packages(noukai_sdk_generated.__path__, "noukai_sdk_generated."):
    __import__(module.name)
noukai_sdk.Noukai(api_key="nk_test", env="dev").close()
noukai_sdk.AsyncNoukai(api_key="nk_test", env="dev")
print(json.dumps(sorted(imported)))
"""


def test_attrs_and_httpx2_are_not_runtime_dependencies() -> None:
    runtime = runtime_dependencies()
    assert "attrs" not in runtime  # the generated models are pydantic
    assert "httpx2" not in runtime  # an injected httpx2 client brings its own library
    assert {"httpx", "pydantic"} <= runtime


def test_the_runtime_dependencies_are_exactly_what_the_package_imports_at_run_time() -> None:
    output = subprocess.run(
        [sys.executable, "-c", _TRACE_RUNTIME_IMPORTS],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=REPO,
    ).stdout
    assert_imports_match(set(json.loads(output)), runtime_dependencies(), exactly=True)


def test_the_generator_imports_only_what_the_generate_extra_declares() -> None:
    pytest.importorskip("openapi_python_client", reason="needs the `generate` extra")
    generate = names(extra("generate"))
    # _runtime_source.py is not generator code: it is copied into the package as its _runtime.py.
    imported = imported_top_level_modules(
        REPO / "generator", skip=frozenset({"_runtime_source.py"})
    )
    assert_imports_match(imported, generate, exactly=False)
    assert {"openapi-python-client", "ruamel-yaml", "jinja2", "ruff"} <= generate


def test_the_cli_extra_is_what_the_cli_needs_not_a_copy_of_devserver() -> None:
    assert names(extra("cli")) == {"rich"}
    assert names(extra("devserver")) == {"starlette", "uvicorn", "pyyaml"}


def test_all_installs_every_feature_extra() -> None:
    (requirement,) = (Requirement(line) for line in extra("all"))
    assert canonicalize_name(requirement.name) == "noukai-sdk"
    assert requirement.extras == FEATURE_EXTRAS


def test_httpx2_is_a_test_only_dependency() -> None:
    assert {"httpx2", "pytest-httpx2"} <= names(extra("test"))
    for extra_name in FEATURE_EXTRAS:
        assert "httpx2" not in names(extra(extra_name)), extra_name
