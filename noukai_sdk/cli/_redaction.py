"""Remove secrets from text the CLI shows, such as ``--debug`` tracebacks."""

from __future__ import annotations

import re

_KEY_PATTERN = re.compile(r"\bnk_[A-Za-z0-9_\-]{2,}")
_BEARER_PATTERN = re.compile(r"(?i)(bearer\s+)\S+")
REDACTED = "[redacted]"


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with the given secrets, anything shaped like an API key and bearer tokens hidden."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _BEARER_PATTERN.sub(lambda match: match.group(1) + REDACTED, text)
    return _KEY_PATTERN.sub(REDACTED, text)
