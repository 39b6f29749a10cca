"""Wire names live in openapi.yaml only: no handwritten module spells a camelCase wire field."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def wire_field_names() -> set[str]:
    spec: dict[str, Any] = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    names: set[str] = set()
    for schema in spec["components"]["schemas"].values():
        names.update(schema.get("properties", {}))
    return {name for name in names if re.search(r"[A-Z]", name)}


def string_literals(path: Path) -> set[str]:
    """String constants of a module, docstrings excluded."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    }


def test_the_spec_has_camel_case_wire_names_to_look_for() -> None:
    assert {"executionId", "toolCallMessages", "eventType"} <= wire_field_names()


def test_no_handwritten_module_types_a_wire_field_name() -> None:
    wire = wire_field_names()
    offenders = {
        f"{path.relative_to(ROOT)}: {literal}"
        for path in sorted((ROOT / "noukai_sdk").rglob("*.py"))
        for literal in string_literals(path) & wire
    }
    assert not offenders, sorted(offenders)
