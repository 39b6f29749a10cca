# pyright: strict
"""User-style code type-checked by mypy --strict and pyright strict; never executed."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from noukai_sdk import (
    AsyncJob,
    AsyncNoukai,
    ExecuteResult,
    Job,
    JobStatus,
    Noukai,
    PausedResult,
    StepAttempts,
    StepTrace,
    Trace,
)


def handler(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"role": "tool", "tool_call_id": call["id"], "content": "ok"} for call in tool_calls]


async def async_handler(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return handler(tool_calls)


def sync_usage() -> None:
    with Noukai("nk_x", org="acme", project="spelling", max_retries=0, timeout=30.0) as client:
        flow = client.flow("grade-3")
        outcome = flow.execute("hi", parameters={"level": 3}, version=2)
        assert_type(outcome, ExecuteResult | PausedResult)
        if isinstance(outcome, PausedResult):
            next_outcome = outcome.resume_sync(handler(outcome.tool_calls))
            assert_type(next_outcome, ExecuteResult | PausedResult)
        done = flow.execute("hi", tool_handler=handler, version="production")
        assert_type(done, ExecuteResult)
        print(done.output, done.session_id, done.requires_tool_calls)
        job = flow.execute_async("hi", version="draft")
        assert_type(job, Job)
        assert_type(job.wait(timeout=60.0), JobStatus)
        assert_type(flow.job(job.execution_id), Job)
        run = flow.run(job.execution_id)
        assert_type(run.trace(), Trace)
        assert_type(run.step_trace("step-1", attempt="all"), StepTrace | StepAttempts)
        for step in flow.steps("hi"):
            print(step.step_id)


async def async_usage() -> None:
    async with AsyncNoukai("nk_x", env="dev", dev_port=9000) as client:
        flow = client.flow("acme/spelling/grade-3")
        done = await flow.execute(
            messages=[{"role": "user", "content": "hi"}], tool_handler=async_handler
        )
        assert_type(done, ExecuteResult)
        outcome = await flow.execute("hi")
        if isinstance(outcome, PausedResult):
            await outcome.resume(handler(outcome.tool_calls))
        job = await flow.execute_async("hi")
        assert_type(job, AsyncJob)
        assert_type(flow.job(job.execution_id), AsyncJob)
        status = await job.poll()
        print(status.status, status.result)
        async for event in flow.events("hi", run_remaining=True):
            print(event)
