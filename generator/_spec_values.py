"""The values of openapi.yaml that openapi-python-client does not turn into code.

The parser ignores ``discriminator``, ``servers`` and ``x-`` extensions, so the discriminated unions
(SSE events, the execute response) and the spec constants (base URLs, the API version pin, header
names, the key prefix) are read here as plain data for ``templates/unions.py.jinja`` and
``templates/constants.py.jinja``. Nothing here writes Python source.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from ruamel.yaml import YAML

_SCHEMA_REF = "#/components/schemas/"
_ENVIRONMENT_KEY = "x-noukai-environment"
_KEY_PREFIX_KEY = "x-noukai-key-prefix"
_INVALID_STEP_INDEX_KEY = "x-noukai-invalid-step-index-code"


class SpecError(ValueError):
    """openapi.yaml lacks (or contradicts) a value the generated package is built from."""


def load_spec(path: Path) -> dict[str, Any]:
    """The OpenAPI document as plain Python data."""
    loaded = YAML(typ="safe").load(path.read_text(encoding="utf-8"))  # pyright: ignore[reportUnknownMemberType]
    return cast("dict[str, Any]", loaded)


def discriminated_unions(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ``oneOf`` component schema with a discriminator mapping, in spec order.

    Each entry has ``name`` (the type alias), ``constant`` (its UPPER_SNAKE prefix), ``members``
    (model names in ``oneOf`` order), ``description``, ``discriminator`` (the wire field) and
    ``mapping`` (discriminator value -> model name, in spec order).
    """
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    return [
        {
            "name": name,
            "constant": _constant_name(name),
            "members": [_model_name(option["$ref"]) for option in schema["oneOf"]],
            "description": " ".join(str(schema.get("description", name)).split()),
            "discriminator": schema["discriminator"]["propertyName"],
            "mapping": {
                value: _model_name(ref) for value, ref in schema["discriminator"]["mapping"].items()
            },
        }
        for name, schema in schemas.items()
        if "oneOf" in schema and "mapping" in schema.get("discriminator", {})
    ]


def spec_constants(spec: dict[str, Any]) -> dict[str, Any]:
    """The contract values the handwritten SDK must not spell itself, by constant name."""
    components = spec["components"]
    api_version = components["parameters"]["ApiVersion"]
    pinned = api_version["schema"]["default"]
    if pinned != spec["info"]["version"]:
        raise SpecError(
            f"the ApiVersion header default {pinned!r} differs from info.version "
            f"{spec['info']['version']!r}"
        )
    servers = {_environment(server): server for server in spec["servers"]}
    for required in ("production", "dev"):
        if required not in servers:
            raise SpecError(f"no server has {_ENVIRONMENT_KEY}: {required}")
    dev = servers["dev"]
    dev_host = urlsplit(dev["url"]).hostname
    if dev_host is None:
        raise SpecError(f"the dev server URL {dev['url']!r} has no host")
    return {
        "SERVERS": {name: _default_url(server) for name, server in servers.items()},
        "PRODUCTION_BASE_URL": _default_url(servers["production"]),
        "DEV_BASE_URL_TEMPLATE": dev["url"],
        "DEV_HOST": dev_host,
        "DEV_DEFAULT_PORT": int(dev["variables"]["port"]["default"]),
        "API_VERSION_HEADER": api_version["name"],
        "API_VERSION": pinned,
        "SESSION_ID_HEADER": components["parameters"]["SessionId"]["name"],
        "REQUEST_ID_HEADER": _response_header_named(components, "#/components/headers/RequestId"),
        "RETRY_AFTER_HEADER": _response_header_named(components, "#/components/headers/RetryAfter"),
        "API_KEY_PREFIX": components["securitySchemes"]["bearerAuth"][_KEY_PREFIX_KEY],
        "INVALID_STEP_INDEX_CODE": components["responses"]["BadRequest"][_INVALID_STEP_INDEX_KEY],
    }


def _environment(server: dict[str, Any]) -> str:
    try:
        return str(server[_ENVIRONMENT_KEY])
    except KeyError:
        raise SpecError(f"server {server.get('url')!r} has no {_ENVIRONMENT_KEY}") from None


def _default_url(server: dict[str, Any]) -> str:
    """The server URL with every ``{variable}`` replaced by its default."""
    variables: dict[str, Any] = server.get("variables", {})
    return re.sub(r"\{(\w+)\}", lambda m: str(variables[m.group(1)]["default"]), server["url"])


def _constant_name(schema_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", schema_name).upper()


def _model_name(ref: str) -> str:
    if not ref.startswith(_SCHEMA_REF):
        raise SpecError(f"discriminator mapping must point at a component schema, got {ref!r}")
    return ref[len(_SCHEMA_REF) :]


def _response_header_named(components: dict[str, Any], ref: str) -> str:
    for response in components["responses"].values():
        for header_name, header in response.get("headers", {}).items():
            if header.get("$ref") == ref:
                return str(header_name)
    raise SpecError(f"no response declares the header {ref}")
