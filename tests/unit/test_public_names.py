"""``noukai_sdk.replay`` is the 0.5.x decorator whatever was imported before it."""

from __future__ import annotations

import subprocess
import sys


def test_replay_is_the_decorator_even_after_the_machinery_is_loaded() -> None:
    script = (
        "import noukai_sdk.cassettes, noukai_sdk.adapters.fastapi, noukai_sdk\n"
        "from noukai_sdk import replay, trace\n"
        "import types\n"
        "assert not isinstance(replay, types.ModuleType), replay\n"
        "assert replay is trace and callable(replay)\n"
        "assert noukai_sdk.replay is trace\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
