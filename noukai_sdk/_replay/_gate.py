"""The replay gate: replay only happens where ``NOUKAI_REPLAY_ENABLED`` switches it on.

Replay serves recorded model outputs instead of calling the flow, so a production service must
never enter it because a request header asked for it. The gate is read at every scope entry.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

GATE_VARIABLE = "NOUKAI_REPLAY_ENABLED"
_TRUE_VALUES = frozenset({"1", "true", "yes", "on"})


def replay_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``NOUKAI_REPLAY_ENABLED`` is one of ``1``/``true``/``yes``/``on`` (any case)."""
    value = (os.environ if environ is None else environ).get(GATE_VARIABLE, "")
    return value.lower() in _TRUE_VALUES
