"""Capture a session against a local dev server, export it as a cassette, replay it offline.

Needs ``pip install 'noukai-sdk[devserver]'`` (from a clone: ``pip install -e '.[devserver]'``).

    python examples/replay_capture_and_replay.py

1. A capture scope tags every call with one fresh session id (``X-Session-Id``).
2. ``export_session`` writes the recorded session to a JSON cassette file.
3. With the server stopped, a replay scope serves the same calls from the cassette.
4. With the server running and ``NOUKAI_REPLAY_ENABLED=1``, a replay scope fetches the session
   from the API instead (``replay_session_id=``).
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path

from noukai_sdk import ExecuteResult, Noukai, replay_scope_sync, trace_scope_sync
from noukai_sdk.cassettes import export_session
from noukai_sdk.devserver.process import DevServerProcess

FLOW = "demo/examples/two-step"


def run_user_code(noukai: Noukai) -> tuple[object, list[object]]:
    """The code under test: one blocking call and one step-by-step run of the same flow."""
    flow = noukai.flow(FLOW)
    result = flow.execute("Replay makes tests deterministic.")
    assert isinstance(result, ExecuteResult), "two-step never pauses for tools"
    outputs = [event.output for event in flow.steps("And cheap.")]
    return result.output, outputs


def main() -> None:
    cassette = Path(tempfile.mkdtemp()) / "two-step.json"
    with (
        DevServerProcess(latency_ms=0) as server,
        Noukai(server.api_key, env="dev", dev_port=server.port) as noukai,
    ):
        with trace_scope_sync(client=noukai) as capture:
            live = run_user_code(noukai)
        print(f"captured session {capture.session_id}")
        print(f"  live result: {live[0]!r}")

        os.environ["NOUKAI_REPLAY_ENABLED"] = "1"
        with replay_scope_sync(client=noukai, replay_session_id=capture.session_id):
            from_api = run_user_code(noukai)
        print(f"  replayed from the API: {from_api == live}")

        export_session(noukai, capture.session_id or "", cassette)
        print(f"exported to {cassette}")
        server.stop()  # from here on nothing can reach a server: the cassette serves all

        with replay_scope_sync(cassette=cassette):
            offline = run_user_code(noukai)
        print(f"  replayed offline from the cassette: {offline == live}")


if __name__ == "__main__":
    # SIGTERM exits like Ctrl-C would: the `with` blocks run, so the dev server stops too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main()
