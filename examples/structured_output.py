"""Structured output and usage: the ``structured-output`` demo flow, validated into a model.

Needs ``pip install 'noukai-sdk[devserver]'`` (from a clone: ``pip install -e '.[devserver]'``).

    python examples/structured_output.py "The cat sat on the mat."

Starts a local dev server, runs the flow with ``output_type=`` (blocking, then as a job), shows
what a mismatch looks like, and asks for the run's usage with ``usage=True``.
"""

from __future__ import annotations

import signal
import sys

from pydantic import BaseModel

from noukai_sdk import ExecuteResult, Noukai, OutputValidationError
from noukai_sdk.devserver.process import DevServerProcess


class Analysis(BaseModel):
    """The output of the ``structured-output`` demo flow."""

    text: str
    word_count: int
    char_count: int
    audience: str


class Invoice(BaseModel):
    """Something the flow does not produce, to show a mismatch."""

    number: str
    total: float


def main() -> None:
    message = " ".join(sys.argv[1:]) or "The cat sat on the mat."
    with (
        DevServerProcess(latency_ms=0) as server,
        Noukai(server.api_key, env="dev", dev_port=server.port) as noukai,
    ):
        flow = noukai.flow("demo/examples/structured-output")
        result = flow.execute(
            message, parameters={"audience": "kids"}, output_type=Analysis, usage=True
        )
        assert isinstance(result, ExecuteResult), "structured-output never pauses for tools"
        analysis = result.parsed
        print(f"parsed:       {analysis!r}")
        print(f"words/chars:  {analysis.word_count}/{analysis.char_count}")
        print(f"usage:        {result.usage}")

        status = flow.execute_async(message).wait(
            timeout=30, poll_interval=0.1, output_type=Analysis
        )
        print(f"job parsed:   {status.parsed!r}")

        try:
            flow.execute(message, output_type=Invoice)
        except OutputValidationError as error:
            print(f"mismatch:     {error}")
            print(f"raw output:   {error.raw_output}")


if __name__ == "__main__":
    # SIGTERM exits like Ctrl-C would: the `with` blocks run, so the dev server stops too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main()
