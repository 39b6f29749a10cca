"""The relay: a keyless client for a server-side relay route, and the logic of that route.

``RelayFlow``/``AsyncRelayFlow`` (and their one-POST transports) run the same execute and tool-call
protocol as ``Flow``, aimed at a relay URL instead of the API. ``_server`` holds what both
framework adapters of :mod:`noukai_sdk.adapters.relay` share.
"""

from __future__ import annotations

from noukai_sdk._relay._flows import AsyncRelayFlow, RelayFlow
from noukai_sdk._relay._transport import RelayExecuteTransport, RelaySyncExecuteTransport

__all__ = ["AsyncRelayFlow", "RelayExecuteTransport", "RelayFlow", "RelaySyncExecuteTransport"]
