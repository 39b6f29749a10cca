"""Cassettes: recorded sessions as local JSON files (the ``SessionResponse`` format).

``export_session`` / ``aexport_session`` write one from the API (``noukai session export`` does the
same from the shell); ``load_cassette`` reads and validates one. ``trace_scope(cassette=...)`` and the
adapters' ``cassette_dir=`` replay from such files with no network at all.
"""

from __future__ import annotations

from noukai_sdk._replay._cassettes import aexport_session, export_session, load_cassette

__all__ = ["aexport_session", "export_session", "load_cassette"]
