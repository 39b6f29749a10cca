"""Masking the API key out of everything the SDK shows: messages, error bodies, log events.

A server (or a proxy) may echo the key back verbatim or JSON-escaped (``\\u006e\\u006b_…``, any
mix of escaped and plain characters), so each secret is matched character by character in
either spelling.
"""

from __future__ import annotations

import re
from functools import lru_cache

MASK = "nk_***"


@lru_cache(maxsize=16)
def _pattern(secret: str) -> re.Pattern[str]:
    return re.compile(
        "".join(f"(?:{re.escape(char)}|\\\\u{ord(char):04x})" for char in secret), re.I
    )


@lru_cache(maxsize=16)
def _bytes_pattern(secret: str) -> re.Pattern[bytes]:
    return re.compile(_pattern(secret).pattern.encode("ascii", "backslashreplace"), re.I)


def mask_text(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret, in any JSON spelling, replaced by a fixed mask."""
    for secret in secrets:
        if secret and (secret in text or "\\u" in text):
            text = _pattern(secret).sub(MASK, text)
    return text


def mask_bytes(content: bytes, secrets: tuple[str, ...]) -> bytes:
    """The bytes counterpart of :func:`mask_text` (bodies as received)."""
    for secret in secrets:
        if secret and (secret.encode() in content or b"\\u" in content):
            content = _bytes_pattern(secret).sub(MASK.encode(), content)
    return content
