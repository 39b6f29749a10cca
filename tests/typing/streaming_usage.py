# pyright: strict
"""User-style code of the streaming helpers, checked by mypy --strict and pyright strict; not run."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from typing_extensions import assert_type

from noukai_sdk import (
    AsyncNoukai,
    AsyncObjectStream,
    AsyncTextStream,
    ExecuteResult,
    Noukai,
    ObjectStream,
    TextStream,
)


class Invoice(BaseModel):
    number: str


def sync_usage(client: Noukai) -> None:
    flow = client.flow("acme/billing/invoice")
    with flow.stream_text("hi", step="write", auto_resume=2) as stream:
        assert_type(stream, TextStream)
        for delta in stream:
            assert_type(delta, str)
    assert_type(stream.text, str)
    assert_type(stream.final_result(), ExecuteResult)
    assert_type(stream.usage.cost_usd, Decimal)
    with flow.stream_object(Invoice, "bill") as objects:
        assert_type(objects, ObjectStream[Invoice])
        for snapshot in objects:
            assert_type(snapshot, Any)
    assert_type(objects.final_object(), Invoice)


async def async_usage(client: AsyncNoukai) -> None:
    flow = client.flow("acme/billing/invoice")
    async with flow.stream_text("hi") as stream:
        assert_type(stream, AsyncTextStream)
        async for delta in stream:
            assert_type(delta, str)
    assert_type(await stream.final_result(), ExecuteResult)
    async with flow.stream_object(Invoice, "bill", auto_resume=1) as objects:
        assert_type(objects, AsyncObjectStream[Invoice])
    assert_type(await objects.final_object(), Invoice)
