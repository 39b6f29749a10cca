"""Quick start: run the ``hello-world`` demo flow against a local dev server this script starts.

Needs ``pip install 'noukai-sdk[devserver]'`` (from a clone: ``pip install -e '.[devserver]'``).

    python examples/quickstart.py "Hi there"

Against a dev server you already run (``noukai dev-server``), the three lines inside ``with`` are all
you need, with ``Noukai("nk_dev_local", env="dev")``.
"""

from __future__ import annotations

import signal
import sys

from noukai_sdk import ExecuteResult, Noukai
from noukai_sdk.devserver.process import DevServerProcess


def main() -> None:
    message = " ".join(sys.argv[1:]) or "The cat sat on the mat."
    with (
        DevServerProcess(latency_ms=0) as server,
        Noukai(server.api_key, env="dev", dev_port=server.port) as noukai,
    ):
        result = noukai.flow("demo/examples/hello-world").execute(message)
    assert isinstance(result, ExecuteResult), "hello-world never pauses for tools"
    print(f"status:       {result.status}")
    print(f"execution id: {result.execution_id}")
    print(f"output:       {result.output}")


if __name__ == "__main__":
    # SIGTERM exits like Ctrl-C would: the `with` blocks run, so the dev server stops too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main()
