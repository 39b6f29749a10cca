"""The ``noukai`` command's exit statuses, one per kind of outcome (documented in the README)."""

from __future__ import annotations

OK = 0
"""The command did what was asked."""
FLOW_FAILED = 1
"""The flow ran and failed (a failed step, a failed job, failed ``map`` rows, a tool pause)."""
USAGE = 2
"""Bad arguments or setup: unknown option, missing API key or org/project, missing extra, bad file."""
API_ERROR = 3
"""The API refused the request (401, 402, 403, 404, 429, other error statuses, an invalid body)."""
CONNECTION = 4
"""The API could not be reached or did not answer in time (refused, timeout, stream cut short)."""
INTERRUPTED = 130
"""Stopped by Ctrl-C (SIGINT), as shells report it."""
INTERNAL = 70
"""An unexpected error inside the CLI itself (``--debug`` shows where)."""
