"""Jobs and traces with the asyncio client: queue a run, wait for it, then inspect its trace.

Needs ``pip install 'noukai-sdk[devserver]'`` (from a clone: ``pip install -e '.[devserver]'``).

python examples/jobs_and_traces.py
"""

from __future__ import annotations

import asyncio
import signal
import sys

from noukai_sdk import AsyncNoukai, StepAttempts
from noukai_sdk.devserver.process import DevServerProcess


async def main() -> None:
    with DevServerProcess(latency_ms=0) as server:
        async with AsyncNoukai(server.api_key, env="dev", dev_port=server.port) as noukai:
            flow = noukai.flow("demo/examples/two-step")

            job = await flow.execute_async("Queued work", trace=True)
            print("submitted", job.execution_id, job.status)
            status = await job.wait(timeout=60, poll_interval=0.2)
            print("finished:", status.status, status.result)

            run = flow.run(job.execution_id)
            trace = await run.trace()
            print("trace:", trace.flow_run.status, [step.step_id for step in trace.steps])
            attempts = await run.step_trace(trace.steps[0].step_id, attempt="all")
            assert isinstance(attempts, StepAttempts)
            print("attempts of", attempts.step_id, "=", len(attempts.attempts))
            async with run.live_trace() as events:
                print("live trace:", [event.type async for event in events])


if __name__ == "__main__":
    # SIGTERM exits like Ctrl-C would: the `with` blocks run, so the dev server stops too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    asyncio.run(main())
