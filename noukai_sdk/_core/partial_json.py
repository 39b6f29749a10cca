"""JSON text arriving in pieces: partial snapshots that only ever grow, without quadratic re-parsing.

pydantic-core's partial mode (``allow_partial="trailing-strings"``) reads a prefix of a JSON text
as the value it has so far: an unfinished string is kept as far as it goes, an unfinished key or
literal is left out. Two things are added here:

- A number at the very end of the text may still grow (``12`` becoming ``123``), so it is left
  out until a delimiter closes it; every snapshot therefore *extends* the one before (same keys
  and items, the last one possibly longer), and a snapshot equal to the previous one is not
  reported again.
- Re-parsing the whole text on every piece would cost O(n²) for n pieces. The text is parsed
  again only once it has grown by :data:`REPARSE_GROWTH` of its size at the last parse (and once
  more at the end), so the total work is a constant multiple of one parse of the final text.
"""

from __future__ import annotations

import gc
from typing import Any, Final, cast

from pydantic_core import from_json

REPARSE_GROWTH: Final = 1 / 8
"""Re-parse once the text has grown by this fraction of its size at the previous parse."""

_NUMBER_CHARS: Final = frozenset("0123456789.eE+-")
_DIGITS: Final = frozenset("0123456789")
_FENCE: Final = "```"


class PartialDocument:
    """One JSON document whose text arrives in pieces; :meth:`refresh` updates :attr:`snapshot`."""

    __slots__ = ("_final_size", "_parsed_size", "_parts", "_size", "has_snapshot", "snapshot")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._parsed_size = 0
        self._final_size = -1
        self.has_snapshot = False
        self.snapshot: Any = None

    def append(self, piece: str) -> bool:
        """Add ``piece``; ``True`` when the text has grown enough to be worth parsing again."""
        self._parts.append(piece)
        self._size += len(piece)
        return self._size - self._parsed_size >= self._parsed_size * REPARSE_GROWTH

    @property
    def text(self) -> str:
        """The text so far (joined once, then kept joined)."""
        parts = self._parts
        if len(parts) != 1:
            joined = "".join(parts)
            self._parts = [joined]
            return joined
        return parts[0]

    def refresh(self, *, final: bool = False) -> bool:
        """Parse the text now; ``True`` when that gave a snapshot extending the previous one.

        ``final`` means no more text follows, so a number at the end is complete.
        """
        if final:
            if self._final_size == self._size:
                return False  # this very text was already read as final
            self._final_size = self._size
        text = self.text
        self._parsed_size = self._size
        source = unfenced(text, final=final)
        if not final:
            source = _without_trailing_number(source)
        if not source or source.isspace():
            return False
        try:
            value = _parse_partial(source)
        except ValueError:
            return False  # not JSON (yet, or at all): the final validation says why
        if self.has_snapshot and compare_snapshots(self.snapshot, value) <= 0:
            return False
        self.snapshot = value
        self.has_snapshot = True
        return True


def compare_snapshots(old: Any, new: Any) -> int:
    """``1`` when ``new`` extends ``old``, ``0`` when they are equal, ``-1`` otherwise.

    Only the last entry of each container can still change between two partial parses of
    growing prefixes (everything before it was closed by a delimiter), so only that path is
    walked: the check costs the depth of the document, not its size.
    """
    if type(old) is not type(new):
        return -1
    if isinstance(old, dict):
        old_map, new_map = cast("dict[str, Any]", old), cast("dict[str, Any]", new)
        if not old_map:
            return 1 if new_map else 0
        last = next(reversed(old_map))
        if last not in new_map:
            return -1
        return _grown(compare_snapshots(old_map[last], new_map[last]), len(old_map), len(new_map))
    if isinstance(old, list):
        old_list, new_list = cast("list[object]", old), cast("list[object]", new)
        if not old_list:
            return 1 if new_list else 0
        if len(new_list) < len(old_list):
            return -1
        last_item = compare_snapshots(old_list[-1], new_list[len(old_list) - 1])
        return _grown(last_item, len(old_list), len(new_list))
    if isinstance(old, str):
        if new == old:
            return 0
        return 1 if cast("str", new).startswith(old) else -1
    return 0 if old == new else -1


def _grown(last: int, old_size: int, new_size: int) -> int:
    """A container's comparison from its last entry's and its size."""
    if last < 0 or new_size < old_size:
        return -1
    return 1 if last or new_size > old_size else 0


def _parse_partial(source: str) -> Any:
    """``source`` read in partial mode, with the cyclic garbage collector paused meanwhile.

    The parse builds a tree of fresh containers that cannot form cycles; on a large document the
    collector would otherwise run many times over them (and over the previous snapshot, still
    alive), roughly doubling the cost of every re-parse.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return from_json(source, allow_partial="trailing-strings")
    finally:
        if paused:
            gc.enable()


def unfenced(text: str, *, final: bool) -> str:
    """``text`` without a Markdown code fence around it (models often wrap JSON in one)."""
    start = 0
    while start < len(text) and text[start] in " \t\r\n":
        start += 1
    if not text.startswith(_FENCE, start):
        return text
    newline = text.find("\n", start)
    if newline < 0:
        return ""  # still inside the fence's opening line
    body = text[newline + 1 :]
    if final:
        stripped = body.rstrip()
        if stripped.endswith(_FENCE):
            body = stripped[: -len(_FENCE)]
    return body


def _without_trailing_number(text: str) -> str:
    """``text`` minus a number at its very end, which the next piece may still lengthen."""
    end = cut = len(text)
    while cut > 0 and text[cut - 1] in _NUMBER_CHARS:
        cut -= 1
    if cut == end or not _DIGITS.intersection(text[cut:]):
        return text
    return text[:cut]
