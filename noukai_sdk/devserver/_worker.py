"""The job worker: takes queued executions from SQLite one at a time and runs them to the end."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from noukai_sdk.devserver._engine import advance
from noukai_sdk.devserver._errors import ServerStopping
from noukai_sdk.devserver._service import DevServer

_log = logging.getLogger("noukai_sdk.devserver")


async def run_jobs(server: DevServer) -> None:
    """Process the queue until the server drains (or the task is cancelled); survives a failing
    job.

    A job is picked up no sooner than the configured pickup delay after its submission, so a
    client polling right after submitting sees ``pending`` (0.2.0's own suite relies on that),
    whatever the block latency and however busy the worker was.
    """
    loop = asyncio.get_running_loop()
    while not server.draining:
        execution_id = server.store.oldest_pending_job()
        if execution_id is None:
            server.jobs_waiting.clear()
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(server.jobs_waiting.wait(), timeout=1.0)
            continue
        wait = server.job_pickup_at.get(execution_id, 0.0) - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
            continue
        server.job_pickup_at.pop(execution_id, None)
        server.store.set_job_status(execution_id, "running")
        try:
            await _run_job(server, execution_id)
        except asyncio.CancelledError:
            server.store.set_job_status(execution_id, "pending")
            raise
        except ServerStopping:
            server.store.set_job_status(execution_id, "pending")
            return
        except Exception:
            _log.exception("job %s crashed", execution_id)
            server.store.set_job_status(execution_id, "failed")


async def _run_job(server: DevServer, execution_id: str) -> None:
    """Run a job from its cursor: a job interrupted by a restart keeps its completed steps."""
    run = server.store.load_run(execution_id)
    if run is None:
        server.store.set_job_status(execution_id, "failed")
        return
    flow = server.catalog.find(*run.flow_key.split("/"))
    if flow is None:
        run.status = "failed"
        run.error = {
            "code": "FLOW_NOT_FOUND",
            "message": f"Flow '{run.flow_key}' no longer exists.",
        }
        server.store.save_run(run)
        server.store.set_job_status(execution_id, "failed")
        return
    engine = advance(
        flow, run, pause_between_steps=False, default_latency_ms=server.config.latency_ms
    )
    reason = await server.run_to_stop(run, engine)
    server.store.set_job_status(execution_id, "completed" if reason == "completed" else "failed")
