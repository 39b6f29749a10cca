"""Renders the modules the pipeline writes itself from the jinja templates in ``templates/``.

openapi-python-client renders the models and request builders with its own environment; the
discriminated unions, the spec constants and ``models/__init__.py`` are rendered here with the same
whitespace rules, so every generated module comes from a template in one folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined


def environment(template_dir: Path) -> Environment:
    """A strict environment over ``template_dir``: a missing value fails instead of rendering ''."""
    env = Environment(loader=FileSystemLoader(template_dir), undefined=StrictUndefined)
    # openapi-python-client's whitespace rules, so every template in the folder reads the same way
    env.trim_blocks = env.lstrip_blocks = env.keep_trailing_newline = True
    env.filters["py"] = repr  # a Python literal of a str, int or dict read from the spec
    return env


def render(template_dir: Path, name: str, **context: Any) -> str:
    """The text of template ``name`` rendered with ``context``."""
    return environment(template_dir).get_template(name).render(**context)
