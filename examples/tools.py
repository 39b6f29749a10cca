"""Tool calls: the flow pauses for your tools; answer automatically or by hand.

Needs ``pip install 'noukai-sdk[devserver]'`` (from a clone: ``pip install -e '.[devserver]'``).

    python examples/tools.py

Runs the ``tools-enabled`` demo flow (it asks for ``get_weather`` once per city in the message)
against a dev server this script starts.
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

from noukai_sdk import ExecuteResult, Noukai, PausedResult
from noukai_sdk.devserver.process import DevServerProcess

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def get_weather(city: str) -> dict[str, Any]:
    return {"city": city, "sky": "sunny", "celsius": 21}


def answer(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run each requested tool; results in the OpenAI tool-message shape."""
    return [
        {
            "role": "tool",
            "tool_call_id": call["id"],
            "content": json.dumps(get_weather(**json.loads(call["function"]["arguments"]))),
        }
        for call in tool_calls
    ]


def main() -> None:
    with (
        DevServerProcess(latency_ms=0) as server,
        Noukai(server.api_key, env="dev", dev_port=server.port) as noukai,
    ):
        flow = noukai.flow("demo/examples/tools-enabled")

        # 1. Automatic: the SDK calls `answer` at every pause and returns the final result.
        result = flow.execute(
            "Weather in Paris and Rome?", tools=[WEATHER_TOOL], tool_handler=answer
        )
        print("automatic:", result.output)

        # 2. By hand: every pause comes back as a PausedResult to resume yourself.
        outcome: ExecuteResult | PausedResult = flow.execute("And Oslo?", tools=[WEATHER_TOOL])
        while isinstance(outcome, PausedResult):
            print("  paused for", [call["function"]["name"] for call in outcome.tool_calls])
            outcome = outcome.resume_sync(tool_results=answer(outcome.tool_calls))
        print("by hand:  ", outcome.output)


if __name__ == "__main__":
    # SIGTERM exits like Ctrl-C would: the `with` blocks run, so the dev server stops too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main()
