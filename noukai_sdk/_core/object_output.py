"""Strict validation of a streamed object against the type ``stream_object()`` was asked for."""

from __future__ import annotations

import json
from collections.abc import Hashable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from noukai_sdk._core.errors import OutputValidationError

if TYPE_CHECKING:
    from pydantic import TypeAdapter

T = TypeVar("T")


def validate_streamed_object(
    output_type: type[T], *, is_text: bool, source: Any, execution_id: str | None
) -> T:
    """``source`` (JSON text, or a whole JSON value) validated strictly as ``output_type``.

    A whole value is validated as the JSON it arrived as, so both paths follow the same (JSON)
    rules. A mismatch, or text that is not JSON, raises :class:`OutputValidationError`.
    """
    from pydantic import ValidationError

    text = source if is_text else json.dumps(source)
    try:
        value: T = _adapter(cast("Hashable", output_type)).validate_json(text, strict=True)
    except ValidationError as error:
        errors = error.errors(include_url=False)
        first = errors[0]
        where = ".".join(str(part) for part in first["loc"]) or "the output"
        raise OutputValidationError(
            f"The streamed output of run {execution_id or '(id unknown)'} does not fit "
            f"{_type_name(output_type)}: {where}: {first['msg']}"
            + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""),
            raw_output=source,
            errors=errors,
            execution_id=execution_id,
        ) from error
    return value


@lru_cache(maxsize=64)
def _adapter(output_type: Hashable) -> TypeAdapter[Any]:
    from pydantic import TypeAdapter

    return TypeAdapter(cast(Any, output_type))


def _type_name(output_type: Any) -> str:
    return getattr(output_type, "__name__", None) or repr(output_type)
