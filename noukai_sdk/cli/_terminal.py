"""Where output goes and how it looks: rich when installed and on a terminal, plain text otherwise.

``rich`` comes with the ``cli`` extra; the base install falls back to plain lines, so nothing here
imports it at module level (``import noukai_sdk`` and ``noukai --help`` never load it).
"""

from __future__ import annotations

import importlib
import json
import sys
from decimal import Decimal, InvalidOperation
from typing import IO, Any


def is_terminal(stream: IO[str]) -> bool:
    """Whether ``stream`` is an interactive terminal (a pipe, a file or a closed stream is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def rich_console(stream: IO[str]) -> Any | None:
    """A ``rich.console.Console`` writing to ``stream`` when rich is installed and it is a terminal."""
    if not is_terminal(stream):
        return None
    try:
        console_module: Any = importlib.import_module("rich.console")
    except ImportError:
        return None
    return console_module.Console(file=stream, highlight=False, soft_wrap=True)


def write(stream: IO[str], text: str) -> None:
    """Write and flush at once, so a reader sees output as it happens."""
    stream.write(text)
    stream.flush()


def print_result(value: Any) -> None:
    """A flow's output on stdout: text as it is, anything else as indented JSON."""
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
    write(sys.stdout, text + "\n")


def print_json(value: Any) -> None:
    write(sys.stdout, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def print_json_line(value: Any) -> None:
    write(sys.stdout, json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")


def wire_json(model: Any) -> Any:
    """A response or event model as the JSON the API sent (wire names, no unset fields)."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def format_duration(milliseconds: float | None) -> str:
    if milliseconds is None:
        return "-"
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    return f"{milliseconds / 1000:.1f} s"


def format_tokens(total: int | None) -> str:
    return "-" if total is None else f"{total} tokens"


def format_cost(cost: str | Decimal | None) -> str:
    if cost is None:
        return "-"
    try:
        return f"${Decimal(cost):.6f}"
    except InvalidOperation:
        return f"${cost}"
