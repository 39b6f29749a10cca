"""OpenTelemetry beyond execute: one span per steps()/events()/live_trace() stream, ended when the
consumer stops early, and W3C trace context on every request sent while a span is active."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
import respx
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, Tracer

from noukai_sdk import AsyncNoukai, FlowExecutionError, Noukai

BASE = "https://api.noukai.dev/api/v1"
KEY = "nk_test_otel_0123456789"
STEP = "/seq/o/p/s/step"
LIVE = "/seq/o/p/s/runs/exec-1/trace/stream"
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")

RUN = (
    b'event: run_started\ndata: {"runId": "r", "executionId": "exec-1"}\n\n'
    b'event: step_started\ndata: {"stepId": "s1"}\n\n'
    b'event: step_completed\ndata: {"stepId": "s1", "output": "hi", "durationMs": 12,'
    b' "tokens": {"prompt": 3, "completion": 4, "total": 7}, "costUsd": "0.01"}\n\n'
    b'event: flow_completed\ndata: {"status": "completed", "executionId": "exec-1",'
    b' "result": "hi"}\n\n'
)
FAILED = (
    b'event: run_started\ndata: {"runId": "r", "executionId": "exec-1"}\n\n'
    b'event: step_error\ndata: {"stepId": "s1", "error": {"code": "BOOM", "message": "no"}}\n\n'
)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> Tracer:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test")


def stream_response(body: bytes) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def consume(kind: str, tracer: Tracer, open_stream: str, *, first_only: bool = False) -> list[Any]:
    """Iterate a stream of a traced client (sync or async); ``first_only`` stops after one event."""

    def opened(client: Any) -> Any:
        flow = client.flow("o/p/s")
        if open_stream == "live_trace":
            return flow.run("exec-1").live_trace()
        if open_stream == "steps":
            return flow.steps("hi")
        return flow.events("hi", run_remaining=True)

    if kind == "sync":
        with Noukai(KEY, otel=True, tracer=tracer) as client, opened(client) as stream:
            seen = []
            for event in stream:
                seen.append(event)
                if first_only:
                    break
            return seen

    async def run() -> list[Any]:
        client = AsyncNoukai(KEY, otel=True, tracer=tracer)
        async with client, opened(client) as stream:
            seen = []
            async for event in stream:
                seen.append(event)
                if first_only:
                    break
            return seen

    return asyncio.run(run())


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    (span,) = exporter.get_finished_spans()
    return span


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(
    ("open_stream", "name"),
    [
        ("events", "noukai.flow.events"),
        ("steps", "noukai.flow.steps"),
        ("live_trace", "noukai.run.live_trace"),
    ],
)
def test_a_stream_gets_one_client_span_with_its_step_boundaries(
    kind: str, open_stream: str, name: str, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    with respx.mock(base_url=BASE) as mock:
        route = (mock.get(LIVE) if open_stream == "live_trace" else mock.post(STEP)).mock(
            return_value=stream_response(RUN)
        )
        consume(kind, tracer, open_stream)
    span = only_span(exporter)
    assert span.name == name and span.kind is SpanKind.CLIENT
    assert span.attributes is not None
    assert span.attributes["noukai.flow.slug"] == "s"
    if open_stream != "steps":  # steps() yields only StepCompleted, which names no run
        assert span.attributes["noukai.execution_id"] == "exec-1"
    assert span.status.status_code is StatusCode.UNSET
    events = {event.name: event for event in span.events}
    completed = events["noukai.step_completed"].attributes
    assert completed is not None
    assert completed["noukai.step.id"] == "s1"
    assert completed["gen_ai.usage.input_tokens"] == 3
    assert completed["noukai.step.cost_usd"] == "0.01"
    header = route.calls.last.request.headers["traceparent"]
    match = TRACEPARENT.match(header)
    assert match is not None and span.context is not None
    assert match.group(1) == format(span.context.trace_id, "032x")
    assert match.group(2) == format(span.context.span_id, "016x")


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_failed_step_is_recorded_on_the_stream_span(
    kind: str, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post(STEP).mock(return_value=stream_response(FAILED))
        with pytest.raises(FlowExecutionError):
            consume(kind, tracer, "steps")
    span = only_span(exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events][-1] == "exception"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_the_span_ends_when_the_consumer_stops_early(
    kind: str, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    with respx.mock(base_url=BASE) as mock:
        mock.post(STEP).mock(return_value=stream_response(RUN))
        seen = consume(kind, tracer, "events", first_only=True)
    assert len(seen) == 1
    span = only_span(exporter)
    assert span.attributes is not None and span.attributes["noukai.stream.closed_early"] is True


def test_every_request_sent_inside_an_active_span_carries_its_trace_context(
    tracer: Tracer,
) -> None:
    trace_body = {"flowRun": {"id": "exec-1", "flowId": "f", "status": "completed"}, "steps": []}
    with respx.mock(base_url=BASE) as mock:
        route = mock.get("/seq/o/p/s/runs/exec-1/trace").mock(
            return_value=httpx.Response(200, json=trace_body)
        )
        client = Noukai(KEY, otel=True, tracer=tracer)
        with tracer.start_as_current_span("app") as app:
            client.flow("o/p/s").run("exec-1").trace()
        client.flow("o/p/s").run("exec-1").trace()
    inside, outside = (call.request.headers for call in route.calls)
    match = TRACEPARENT.match(inside["traceparent"])
    assert match is not None
    assert match.group(1) == format(app.get_span_context().trace_id, "032x")
    assert "traceparent" not in outside


def test_without_otel_no_trace_context_is_sent(tracer: Tracer) -> None:
    trace_body = {"flowRun": {"id": "exec-1", "flowId": "f", "status": "completed"}, "steps": []}
    with respx.mock(base_url=BASE) as mock:
        route = mock.get("/seq/o/p/s/runs/exec-1/trace").mock(
            return_value=httpx.Response(200, json=trace_body)
        )
        with tracer.start_as_current_span("app"):
            Noukai(KEY).flow("o/p/s").run("exec-1").trace()
    assert "traceparent" not in route.calls.last.request.headers
