"""The files of ``noukai map``: input rows in, one result row per input out, and resuming.

Input: a JSONL file, one item per line — a JSON string (the message) or an object of ``execute()``
keyword arguments (``message``, ``messages``, ``parameters``, ``block_overrides``). Output: one JSON
object per line, ``{"index", "input", "status", "execution_id"?, "output" | "error"}``, written as
items finish (``index`` is the 0-based line number of the input, blank lines not counted).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from noukai_sdk.cli._failures import CommandError

ITEM_FIELDS = ("message", "messages", "parameters", "block_overrides")
JOB_ITEM_FIELDS = ("message", "parameters", "block_overrides")


@dataclass(frozen=True)
class InputRow:
    index: int
    value: Any
    """The row as read (for the output row)."""
    arguments: dict[str, Any]
    """The ``execute()`` keyword arguments it stands for."""


def read_rows(path: Path, *, jobs: bool) -> Iterator[InputRow]:
    """The rows of the input file, in order; a malformed line is a ``CommandError`` naming it."""
    allowed = JOB_ITEM_FIELDS if jobs else ITEM_FIELDS
    index = 0
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                value = _decode(line, path, number)
                yield InputRow(index, value, _arguments(value, allowed, path, number, jobs))
                index += 1
    except OSError as exc:
        raise CommandError(f"cannot read --input {path}: {exc.strerror or exc}") from None


def count_rows(path: Path, *, jobs: bool) -> int:
    """Validate the whole input before any request, so a typo on line 9,000 fails at once."""
    return sum(1 for _ in read_rows(path, jobs=jobs))


def _decode(line: str, path: Path, number: int) -> Any:
    try:
        return json.loads(line)
    except ValueError as exc:
        raise CommandError(f"{path}:{number}: not valid JSON ({exc})") from None


def _arguments(
    value: Any, allowed: tuple[str, ...], path: Path, number: int, jobs: bool
) -> dict[str, Any]:
    if isinstance(value, str):
        return {"message": value}
    if not isinstance(value, dict):
        raise CommandError(f"{path}:{number}: expected a message string or an object")
    fields = cast("dict[str, Any]", value)
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        extra = " (--jobs sends no messages)" if jobs and "messages" in unknown else ""
        raise CommandError(
            f"{path}:{number}: unknown field {unknown[0]!r}{extra}; expected {', '.join(allowed)}"
        )
    return dict(fields)


def fingerprint(value: Any) -> str:
    """A short stable digest of an input row, to notice an output made from another input."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def completed_rows(path: Path) -> tuple[dict[int, str], list[str]]:
    """``{index: fingerprint}`` of the rows an earlier run completed, and their lines.

    Only completed rows count (failed rows run again); a line cut off by an interrupted run and
    repeated indexes are ignored.
    """
    kept: dict[int, str] = {}
    lines: list[str] = []
    if not path.exists():
        return kept, lines
    with path.open(encoding="utf-8") as existing:
        for line in existing:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if not isinstance(row, dict) or row.get("status") != "completed":  # pyright: ignore[reportUnknownMemberType]
                continue
            index = row.get("index")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            if isinstance(index, int) and index not in kept:
                kept[index] = fingerprint(row.get("input"))  # pyright: ignore[reportUnknownMemberType]
                lines.append(line if line.endswith("\n") else line + "\n")
    return kept, lines


def keep_only(path: Path, lines: list[str]) -> None:
    """Rewrite ``path`` with ``lines`` (atomically), so each index appears once after a resume."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("".join(lines), encoding="utf-8")
    os.replace(temporary, path)


def completed_row(row: InputRow, output: Any, execution_id: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {"index": row.index, "input": row.value, "status": "completed"}
    if execution_id:
        line["execution_id"] = execution_id
    line["output"] = output
    return line


def failed_row(row: InputRow, error: dict[str, Any], execution_id: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {"index": row.index, "input": row.value, "status": "failed"}
    if execution_id:
        line["execution_id"] = execution_id
    line["error"] = error
    return line


def write_row(sink: IO[str], row: dict[str, Any]) -> None:
    sink.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    sink.flush()
