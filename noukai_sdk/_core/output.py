"""Typed output: validate a flow's output against the ``output_type`` a caller asked for.

:func:`parse_output` is the one place this happens, for ``execute()``, jobs, relays, replay,
``StepCompleted.parse()`` and the streaming helpers. It does no I/O. A JSON value is validated as
it is; a string is first read as JSON text (a fenced code block around it is tolerated, since
models like to wrap JSON in one), and only when that fails validated as the string itself, so
``output_type=str`` still takes plain text.

One ``TypeAdapter`` is built per output type, on first use, and kept (``import noukai_sdk``
builds none).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, overload

from noukai_sdk._core.errors import OutputValidationError

if TYPE_CHECKING:
    from pydantic import TypeAdapter, ValidationError

T = TypeVar("T")

_ADAPTER_CACHE_SIZE = 256
_ERRORS_IN_MESSAGE = 3
_EXCERPT = 200

# A whole string that is one fenced block: ```json … ``` or ``` … ``` (any language tag).
_FENCE = re.compile(r"\A```[A-Za-z0-9_+.-]*[ \t]*\r?\n?(?P<body>.*?)```\Z", re.DOTALL)


@overload
def parse_output(
    output_type: type[T], raw: object, *, execution_id: str | None = None, source: str | None = None
) -> T: ...


@overload
def parse_output(
    output_type: Any, raw: object, *, execution_id: str | None = None, source: str | None = None
) -> Any: ...


def parse_output(
    output_type: Any, raw: object, *, execution_id: str | None = None, source: str | None = None
) -> Any:
    """``raw`` (a flow's output) validated as ``output_type``, or :class:`OutputValidationError`.

    ``output_type`` is a pydantic model class, a dataclass, a TypedDict or anything else a
    pydantic ``TypeAdapter`` accepts (``list[Model]``, ``dict[str, int]``, ``int | None``...).
    ``execution_id`` is carried by the error; ``source`` names what produced the output in its
    message (default: the execution). The caller decides *whether* to validate: a failed run has
    no output to validate and must not come here.
    """
    from pydantic import ValidationError

    adapter = output_adapter(output_type)
    where = source or (f"execution {execution_id}" if execution_id else "the flow")
    if not isinstance(raw, str):
        try:
            return adapter.validate_python(raw)
        except ValidationError as exc:
            raise _mismatch(output_type, raw, exc, execution_id, where) from None
    try:
        return adapter.validate_json(json_text(raw))
    except ValidationError as as_json:
        try:
            # The string itself may be the answer (``str``, a ``Literal``, a constrained string).
            return adapter.validate_python(raw)
        except ValidationError:
            pass
        if _is_not_json(as_json):
            raise _not_json(output_type, raw, as_json, execution_id, where) from None
        raise _mismatch(output_type, raw, as_json, execution_id, where) from None


def check_output_type(output_type: Any) -> None:
    """Build the adapter now, so an ``output_type`` pydantic cannot handle is a ``TypeError``
    before any request rather than after the run was paid for; ``None`` means no validation."""
    if output_type is not None:
        output_adapter(output_type)


def json_text(text: str) -> str:
    """The JSON inside ``text``: the body of a fenced code block, or the text itself, stripped."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    return fenced.group("body").strip() if fenced else stripped


def output_adapter(output_type: Any) -> TypeAdapter[Any]:
    """The ``TypeAdapter`` of ``output_type``, built once per type (unhashable types: each time)."""
    try:
        return _cached_adapter(output_type)
    except TypeError as exc:
        if "unhashable" not in str(exc):
            raise
        return _build_adapter(output_type)


@lru_cache(maxsize=_ADAPTER_CACHE_SIZE)
def _cached_adapter(output_type: Any) -> TypeAdapter[Any]:
    return _build_adapter(output_type)


def _build_adapter(output_type: Any) -> TypeAdapter[Any]:
    from pydantic import PydanticUserError, TypeAdapter

    try:
        return TypeAdapter(output_type)
    except PydanticUserError as exc:
        raise TypeError(
            f"output_type={type_name(output_type)} cannot be validated by pydantic "
            f"({exc.message.splitlines()[0]}); "
            "use a pydantic model, a dataclass, a TypedDict or a type such as list[Model]"
        ) from exc


def type_name(output_type: Any) -> str:
    """A short readable name: ``Invoice``, ``list[Invoice]``, ``int | None``."""
    if isinstance(output_type, type) and not getattr(output_type, "__args__", None):
        return output_type.__qualname__
    return re.sub(r"\b(?:[A-Za-z_][\w]*\.)+(?=[A-Za-z_])", "", repr(output_type))


def _is_not_json(error: ValidationError) -> bool:
    return any(item["type"] == "json_invalid" for item in error.errors(include_url=False))


def _excerpt(raw: object) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "…"


def _not_json(
    output_type: Any, raw: str, error: ValidationError, execution_id: str | None, where: str
) -> OutputValidationError:
    reason = error.errors(include_url=False)[0]["msg"]
    return OutputValidationError(
        f"The output of {where} is text that is not JSON ({reason}), so it cannot "
        f"be read as {type_name(output_type)}: {_excerpt(raw)!r}",
        raw_output=raw,
        errors=[],
        execution_id=execution_id,
    )


def _mismatch(
    output_type: Any, raw: object, error: ValidationError, execution_id: str | None, where: str
) -> OutputValidationError:
    errors = error.errors(include_url=False)
    shown = "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'output'}: {item['msg']}"
        for item in errors[:_ERRORS_IN_MESSAGE]
    )
    more = len(errors) - _ERRORS_IN_MESSAGE
    if more > 0:
        shown += f" (and {more} more)"
    return OutputValidationError(
        f"The output of {where} does not fit {type_name(output_type)}: {shown}",
        raw_output=raw,
        errors=list(errors),
        execution_id=execution_id,
    )
