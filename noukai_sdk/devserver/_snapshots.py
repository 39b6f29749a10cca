"""What a run's traces and session snapshots reveal, per the flow's trace capture mode.

``full`` keeps step input and output, ``redacted`` masks values under sensitive keys (both are
replayable), ``metadata_only`` keeps timings and status only, ``off`` records no steps at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"
_REPLAYABLE = frozenset({"full", "redacted"})


def replayable(capture: str) -> bool:
    return capture in _REPLAYABLE


def reveal(value: Any, *, capture: str, sensitive: Iterable[str]) -> Any:
    """``value`` as the capture mode allows it to be shown (``None`` when it may not be)."""
    if capture == "full":
        return value
    if capture == "redacted":
        return _redact(value, frozenset(k.lower() for k in sensitive))
    return None


def size_bytes(value: Any) -> int:
    return len(json.dumps(value).encode())


def _redact(value: Any, sensitive: frozenset[str]) -> Any:
    if isinstance(value, dict):
        mapping: dict[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return {
            key: REDACTED if str(key).lower() in sensitive else _redact(item, sensitive)
            for key, item in mapping.items()
        }
    if isinstance(value, list):
        items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        return [_redact(item, sensitive) for item in items]
    return value
