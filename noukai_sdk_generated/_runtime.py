# Copied by `python -m generator` from generator/_runtime_source.py. Do not edit by hand.
"""Runtime support for the generated package: the wire-serialising model base and the request shape."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel
from typing_extensions import NotRequired, TypedDict


class BuiltRequest(TypedDict):
    """What a ``build_request(...)`` returns: everything needed to send the request, nothing sent.

    ``url`` is relative to the base URL with every path parameter percent-encoded; ``json`` (the
    wire body), ``params`` (query) and ``headers`` are present only when there is something to send.
    """

    method: Literal["GET", "POST"]
    url: str
    json: NotRequired[Any]
    params: NotRequired[dict[str, str]]
    headers: NotRequired[dict[str, str]]


_WIRE_NAMES: dict[type[BaseModel], tuple[tuple[str, str], ...]] = {}


def _wire_names(cls: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    names = _WIRE_NAMES.get(cls)
    if names is None:
        names = tuple((name, field.alias or name) for name, field in cls.model_fields.items())
        _WIRE_NAMES[cls] = names
    return names


def _wire_value(value: Any) -> Any:
    if isinstance(value, WireModel):
        return value.to_wire()
    if isinstance(value, list):
        items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        if any(isinstance(item, WireModel) for item in items):
            return [_wire_value(item) for item in items]
        return items
    return value


def wire_aliases(wire_names: Mapping[str, str]) -> Callable[[str], str]:
    """The alias generator of a generated model: attribute name -> wire name.

    Aliases come from ``model_config`` rather than ``Field(alias=...)`` so that type checkers see
    the snake_case attribute names as the constructor's keywords; fields added by handwritten
    subclasses keep their own name.
    """

    def alias(name: str) -> str:
        return wire_names.get(name, name)

    return alias


class WireModel(BaseModel):
    """Base of every generated model: adds :meth:`to_wire`, the exact JSON body the API expects."""

    def to_wire(self) -> dict[str, Any]:
        """The wire dict: wire names in declaration order, then extra keys; null values omitted.

        Only this model's own null fields (and those of nested generated models) are dropped; user
        data such as ``parameters`` is passed through untouched, nulls inside it included.
        """
        values = self.__dict__
        wire: dict[str, Any] = {}
        for name, wire_name in _wire_names(type(self)):
            value = values[name]
            if value is not None:
                wire[wire_name] = _wire_value(value)
        extra = self.__pydantic_extra__
        if extra:
            for key, value in extra.items():
                if value is not None:
                    wire[key] = _wire_value(value)
        return wire
