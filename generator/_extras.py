"""Modules openapi-python-client cannot produce: discriminated unions and spec constants.

The parser ignores ``discriminator``, so the mapping from discriminator value to model (for the SSE
events and the execute response) is read from openapi.yaml here and written as plain dicts, so
handwritten code dispatches on ``eventType``/``status`` without ever typing a wire value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from ruamel.yaml import YAML

_SCHEMA_REF = "#/components/schemas/"


def load_spec(path: Path) -> dict[str, Any]:
    """The OpenAPI document as plain Python data."""
    loaded = YAML(typ="safe").load(path.read_text(encoding="utf-8"))  # pyright: ignore[reportUnknownMemberType]
    return cast("dict[str, Any]", loaded)


def _constant_name(schema_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", schema_name).upper()


def _model_name(ref: str) -> str:
    if not ref.startswith(_SCHEMA_REF):
        raise ValueError(f"discriminator mapping must point at a component schema, got {ref!r}")
    return ref[len(_SCHEMA_REF) :]


def discriminated_unions(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every component schema that is a ``oneOf`` with a discriminator mapping, in spec order."""
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    return [
        (name, schema)
        for name, schema in schemas.items()
        if "oneOf" in schema and "mapping" in schema.get("discriminator", {})
    ]


def render_unions(spec: dict[str, Any]) -> str:
    """``unions.py``: per discriminated union a type alias, its discriminator and its value map."""
    unions = discriminated_unions(spec)
    imported = sorted(
        {_model_name(option["$ref"]) for _, schema in unions for option in schema["oneOf"]}
    )
    lines = [
        '"""Discriminated unions of openapi.yaml: which model a discriminator value selects.',
        "",
        "Parse a payload with ``<UNION>_MODELS[value].model_validate_json(raw)`` where ``value`` is",
        "the payload's ``<UNION>_DISCRIMINATOR`` field (for events: the SSE ``event`` field).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Union",
        "",
        "from typing_extensions import TypeAlias",
        "",
        f"from .models import {', '.join(imported)}",
        "",
    ]
    for name, schema in unions:
        constant = _constant_name(name)
        members = [_model_name(option["$ref"]) for option in schema["oneOf"]]
        description = " ".join(str(schema.get("description", name)).split())
        lines += [
            "",
            f"{name}: TypeAlias = Union[{', '.join(members)}]",
            f'"""{description}"""',
            "",
            f"{constant}_DISCRIMINATOR = {schema['discriminator']['propertyName']!r}",
            f'"""The wire field whose value selects a model of ``{name}``."""',
            "",
            f"{constant}_MODELS: dict[str, type[{name}]] = {{",
        ]
        for value, ref in schema["discriminator"]["mapping"].items():
            lines.append(f"    {value!r}: {_model_name(ref)},")
        lines += ["}", f'"""Discriminator value -> model of ``{name}``."""', ""]
    return "\n".join(lines)


def render_constants(spec: dict[str, Any]) -> str:
    """``constants.py``: base URLs, the API version pin and the Noukai header names."""
    components = spec["components"]
    api_version = components["parameters"]["ApiVersion"]
    session_id = components["parameters"]["SessionId"]
    request_id = _response_header_named(components, "#/components/headers/RequestId")
    servers = {server["description"].split()[0]: server["url"] for server in spec["servers"]}
    lines = [
        '"""Constants of openapi.yaml: base URLs, the API version pin and Noukai header names."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Final",
        "",
        f"SERVERS: Final[dict[str, str]] = {servers!r}",
        '"""Base URL per environment (``servers`` of the spec)."""',
        "",
        f"API_VERSION_HEADER: Final = {api_version['name']!r}",
        f"API_VERSION: Final = {api_version['schema']['default']!r}",
        '"""The API contract pin sent on every request."""',
        "",
        f"SESSION_ID_HEADER: Final = {session_id['name']!r}",
        f"REQUEST_ID_HEADER: Final = {request_id!r}",
        "",
    ]
    return "\n".join(lines)


def _response_header_named(components: dict[str, Any], ref: str) -> str:
    for response in components["responses"].values():
        for header_name, header in response.get("headers", {}).items():
            if header.get("$ref") == ref:
                return str(header_name)
    raise ValueError(f"no response declares the header {ref}")
