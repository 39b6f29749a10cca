"""Request bodies as JSON documents: strict parsing, typed 400s, and the nesting bound.

Runs without the event loop (large bodies are parsed in a worker thread), so it only computes and
raises :class:`ApiError`; it never touches the request.
"""

from __future__ import annotations

from typing import Any, cast

import pydantic_core

from noukai_sdk.devserver._errors import ApiError

# Values are echoed in events and traces, whose serialiser stops at about 255 levels.
MAX_NESTING = 200
_BOM = b"\xef\xbb\xbf"


def parse_document(raw: bytes) -> Any:
    """The JSON value of a request body (an empty body is ``{}``), or 400 ``INVALID_JSON``.

    pydantic-core's parser refuses what would break a response later: invalid UTF-8, ``NaN`` and
    ``Infinity``, and lone UTF-16 surrogates (``"\\ud800"``), which no UTF-8 response can carry.
    """
    body = raw[len(_BOM) :] if raw.startswith(_BOM) else raw
    if not body.strip():
        return {}
    try:
        document: Any = pydantic_core.from_json(body, allow_inf_nan=False)
    except ValueError as exc:
        raise ApiError(400, "INVALID_JSON", _reason(str(exc))) from None
    if _nesting_depth(document) > MAX_NESTING:
        raise _too_deep()
    return document


def _reason(parser_message: str) -> str:
    if "recursion limit" in parser_message:
        return _too_deep().message
    if "surrogate" in parser_message or "hex escape" in parser_message:
        return (
            "The request body is not valid JSON text: it holds a lone UTF-16 surrogate "
            f"(a \\uD800-\\uDFFF escape without its pair) ({parser_message})."
        )
    return f"The request body is not JSON: {parser_message}."


def _too_deep() -> ApiError:
    return ApiError(
        400, "INVALID_JSON", f"The request body is nested more than {MAX_NESTING} levels deep."
    )


def _nesting_depth(document: Any) -> int:
    """How many arrays/objects deep ``document`` goes, one level at a time (no recursion; scalars
    are skipped in one pass, so a long flat array costs one comprehension)."""
    depth = 0
    level: list[Any] = [document] if isinstance(document, (dict, list)) else []
    while level:
        depth += 1
        level = [
            child
            for container in level
            for child in (
                cast(dict[str, Any], container).values()
                if isinstance(container, dict)
                else cast(list[Any], container)
            )
            if isinstance(child, (dict, list))
        ]
    return depth
