"""Streaming: run a flow step by step and react to every typed event.

Needs ``pip install 'noukai-sdk[devserver]'`` (from a clone: ``pip install -e '.[devserver]'``).

python examples/streaming.py
"""

from __future__ import annotations

import signal
import sys

from noukai_sdk import Noukai
from noukai_sdk.devserver.process import DevServerProcess


def main() -> None:
    with (
        DevServerProcess(latency_ms=0) as server,
        Noukai(server.api_key, env="dev", dev_port=server.port) as noukai,
    ):
        flow = noukai.flow("demo/examples/two-step")

        # steps(): one StepCompleted per step; a failed step raises FlowExecutionError.
        for step in flow.steps("Streams keep users informed."):
            print(f"step {step.step_index} {step.step_id}: {step.output}")

        # events(): every event; run_remaining streams the rest of the run in one connection.
        with flow.events("Typed events", run_remaining=True) as events:
            for event in events:
                match event.type:
                    case "run_started":
                        print("run", event.execution_id)
                    case "step_completed":
                        print("  completed", event.step_id, event.tokens)
                    case "step_error":
                        print("  failed", event.step_id, event.error)
                    case "flow_completed":
                        print("done:", event.result)
                    case _:
                        pass


if __name__ == "__main__":
    # SIGTERM exits like Ctrl-C would: the `with` blocks run, so the dev server stops too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main()
