# pyright: strict
"""User-style ``output_type=`` code checked by mypy --strict and pyright strict; never executed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from typing_extensions import TypedDict, assert_type

from noukai_sdk import (
    AsyncNoukai,
    AsyncRelayFlow,
    ExecuteResult,
    JobStatus,
    Noukai,
    OutputValidationError,
    PausedResult,
    RelayFlow,
    StepCompleted,
    Usage,
)


class Invoice(BaseModel):
    number: str
    total: float


@dataclass
class Receipt:
    number: str


class Line(TypedDict):
    sku: str
    quantity: int


def handler(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"role": "tool", "tool_call_id": call["id"], "content": "ok"} for call in tool_calls]


async def async_handler(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return handler(tool_calls)


def sync_usage(step: StepCompleted) -> None:
    with Noukai("nk_x") as client:
        flow = client.flow("acme/billing/invoice")

        done = flow.execute("bill", tool_handler=handler, output_type=Invoice)
        assert_type(done, ExecuteResult[Invoice])
        assert_type(done.parsed, Invoice)
        print(done.parsed.total + 1)

        outcome = flow.execute("bill", output_type=Receipt, usage=True)
        assert_type(outcome, ExecuteResult[Receipt] | PausedResult[Receipt])
        if isinstance(outcome, PausedResult):
            resumed = outcome.resume_sync(handler(outcome.tool_calls))
            assert_type(resumed, ExecuteResult[Receipt] | PausedResult[Receipt])
        else:
            assert_type(outcome.parsed, Receipt)
            assert_type(outcome.usage, Usage | None)

        lines = flow.execute("bill", tool_handler=handler, output_type=list[Line])
        assert_type(lines.parsed, list[Line])
        print(lines.parsed[0]["quantity"] + 1)

        untyped = flow.execute("bill", tool_handler=handler)
        assert_type(untyped, ExecuteResult)
        assert_type(untyped.parsed, None)

        job = flow.execute_async("bill")
        assert_type(job.wait(output_type=Invoice), JobStatus[Invoice])
        assert_type(job.wait(timeout=60.0, poll_interval=1.0, output_type=Line).parsed, Line)
        assert_type(job.poll(output_type=Invoice).parsed, Invoice)
        assert_type(job.wait().parsed, None)

        assert_type(flow.run("exec-1").trace().usage, Usage)
        assert_type(Usage().cost_usd, Decimal)
        assert_type(step.parse(Invoice), Invoice)

    with RelayFlow("https://app.example/agent/execute") as relay:
        relayed = relay.execute("bill", tool_handler=handler, output_type=Invoice)
        assert_type(relayed.parsed, Invoice)

    try:
        pass
    except OutputValidationError as error:
        print(error.raw_output, error.errors, error.execution_id)


async def async_usage() -> None:
    async with AsyncNoukai("nk_x") as client:
        flow = client.flow("acme/billing/invoice")

        done = await flow.execute("bill", tool_handler=async_handler, output_type=Invoice)
        assert_type(done, ExecuteResult[Invoice])
        assert_type(done.parsed, Invoice)

        outcome = await flow.execute("bill", output_type=list[Invoice])
        assert_type(outcome, ExecuteResult[list[Invoice]] | PausedResult[list[Invoice]])
        if isinstance(outcome, PausedResult):
            resumed = await outcome.resume(handler(outcome.tool_calls))
            assert_type(resumed, ExecuteResult[list[Invoice]] | PausedResult[list[Invoice]])

        untyped = await flow.execute("bill")
        assert_type(untyped, ExecuteResult | PausedResult)

        job = await flow.execute_async("bill")
        assert_type(await job.wait(output_type=Receipt), JobStatus[Receipt])
        assert_type((await job.poll()).parsed, None)
        assert_type((await flow.run("exec-1").trace()).usage, Usage)

    async with AsyncRelayFlow("https://app.example/agent/execute") as relay:
        relayed = await relay.execute("bill", output_type=Receipt)
        assert_type(relayed, ExecuteResult[Receipt] | PausedResult[Receipt])
