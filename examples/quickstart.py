"""Quick start: run the ``hello-world`` demo flow against a local dev server this script starts.

    python examples/quickstart.py "Hi there"

Against a dev server you already run (``noukai dev-server``), the three lines inside ``with`` are all
you need, with ``Noukai("nk_dev_local", env="dev")``.
"""

from __future__ import annotations

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
    main()
