"""Streaming objects: watch a JSON object fill in, then get it validated as a pydantic model.

Needs ``pip install 'noukai-sdk[devserver]'`` (from a clone: ``pip install -e '.[devserver]'``).

    python examples/stream_object.py
"""

from __future__ import annotations

import json
import signal
import sys

from pydantic import BaseModel

from noukai_sdk import Noukai, OutputValidationError
from noukai_sdk.devserver.process import DevServerProcess


class Order(BaseModel):
    id: int
    customer: str
    items: list[str]


class Analysis(BaseModel):
    text: str
    word_count: int
    char_count: int
    audience: str


def main() -> None:
    with (
        DevServerProcess(latency_ms=10) as server,
        Noukai(server.api_key, env="dev", dev_port=server.port) as noukai,
    ):
        # The streaming demo flow sends its message back word by word: a JSON message streams
        # as JSON text, the way a model writing an object does.
        streaming = noukai.flow("demo/examples/streaming")
        message = json.dumps({"id": 7, "customer": "Ada Lovelace", "items": ["tea", "scones"]})
        with streaming.stream_object(Order, message) as objects:
            for snapshot in objects:
                print("snapshot:", snapshot)
        order = objects.final_object()
        print("order:", order)

        # An output that arrives whole at step completion is the one snapshot.
        structured = noukai.flow("demo/examples/structured-output")
        with structured.stream_object(Analysis, "two words", parameters={"audience": "all"}) as s:
            print("whole:", list(s))
        print("analysis:", s.final_object())

        # Text that does not fit the model is a typed error that keeps the raw output.
        with streaming.stream_object(Order, '{"id": "seven"}') as wrong:
            list(wrong)
        try:
            wrong.final_object()
        except OutputValidationError as error:
            print("mismatch at", error.errors[0]["loc"], "in", repr(error.raw_output))


if __name__ == "__main__":
    # SIGTERM exits like Ctrl-C would: the `with` blocks run, so the dev server stops too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    main()
