"""The layers point one way: core <- shells <- features, and only the transport touches HTTP.

Imports are read from the source (with ``ast``), so a lazy import inside a function counts too;
imports under ``if TYPE_CHECKING:`` are for annotations only and are skipped.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[2] / "noukai_sdk"
HTTP_LIBRARIES = ("httpx", "httpx2")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking_block(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports at run time (absolute names; relative ones resolved)."""
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    pending: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
    while pending:
        node = pending.pop()
        for child in ast.iter_child_nodes(node):
            if _is_type_checking_block(child):
                assert isinstance(child, ast.If)
                pending.extend(child.orelse)
                continue
            if isinstance(child, ast.Import):
                yield from (alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                yield base
                # ``from noukai_sdk import _x`` imports the submodule ``noukai_sdk._x``
                yield from (f"{base}.{alias.name}" for alias in child.names)
            pending.append(child)


def _sources(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _is_or_under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_core_imports_no_shell_no_feature_and_no_http_library() -> None:
    offenders = []
    for path in _sources(PACKAGE / "_core"):
        for name in _runtime_imports(path):
            outside_core = _is_or_under(name, "noukai_sdk") and not (
                _is_or_under(name, "noukai_sdk._core") or name == "noukai_sdk._version"
            )
            http = any(_is_or_under(name, library) for library in HTTP_LIBRARIES)
            if outside_core or http:
                offenders.append(f"{_module_name(path)} imports {name}")
    assert offenders == []


def test_only_the_transports_import_the_http_library_at_run_time() -> None:
    """The client transport, and the relay client's own transport (it posts to a relay URL)."""
    importers = {
        _module_name(path)
        for path in _sources(PACKAGE)
        if any(
            _is_or_under(name, library)
            for name in _runtime_imports(path)
            for library in HTTP_LIBRARIES
        )
        and not _is_or_under(_module_name(path), "noukai_sdk.devserver")
    }
    assert importers <= {"noukai_sdk._transport", "noukai_sdk._relay._transport"}


def test_the_dev_server_imports_nothing_private_from_the_sdk() -> None:
    offenders = []
    for path in _sources(PACKAGE / "devserver"):
        for name in _runtime_imports(path):
            if not _is_or_under(name, "noukai_sdk") or _is_or_under(name, "noukai_sdk.devserver"):
                continue
            if any(part.startswith("_") for part in name.split(".")[1:]):
                offenders.append(f"{_module_name(path)} imports {name}")
    assert offenders == []


FEATURES = (
    "noukai_sdk.adapters",
    "noukai_sdk.devserver",
    "noukai_sdk.cli",
    "noukai_sdk._replay",
    "noukai_sdk._otel",
    "noukai_sdk._relay",
    "noukai_sdk.testing",
    "httpx2",
    "opentelemetry",
)


def test_import_noukai_sdk_loads_no_feature(fresh_import: dict[str, Any]) -> None:
    loaded = fresh_import["import"]
    assert [m for m in loaded for f in FEATURES if m == f or m.startswith(f + ".")] == []
