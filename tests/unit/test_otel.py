"""Opt-in OpenTelemetry: the call span, per-block child spans, payload bounds, and no import when off."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, Tracer

from noukai_sdk import (
    AsyncNoukai,
    ExecuteResult,
    Flow,
    FlowNotFoundError,
    Noukai,
    PausedResult,
)

BASE = "https://api.noukai.dev/api/v1"
KEY = "nk_test_otel_0123456789"
EXECUTE = f"{BASE}/seq/o/p/s/execute"
TRACE = f"{BASE}/seq/o/p/s/runs/exec-1/trace"
COMPLETED: dict[str, Any] = {
    "status": "completed",
    "result": "ok",
    "flowId": "f-1",
    "blockCount": 2,
    "executionId": "exec-1",
}
STEP_S1: dict[str, Any] = {
    "stepId": "s1",
    "attempt": 1,
    "status": "completed",
    "startedAt": "2026-05-31T10:00:00Z",
    "completedAt": "2026-05-31T10:00:01.5Z",
    "durationMs": 1500,
    "modelUsed": "m1",
    "tokens": {"prompt": 10, "completion": 5, "total": 15},
    "costUsd": "0.0001",
    "inputContext": {"message": "hi"},
    "outputContext": {"text": "hello"},
}
STEP_S2: dict[str, Any] = {
    "stepId": "s2",
    "attempt": 2,
    "loopIndex": 0,
    "status": "failed",
    "startedAt": "2026-05-31T10:00:02.123456789+00:00",
    "errorContext": {"error": "boom"},
}
TRACE_BODY: dict[str, Any] = {
    "flowRun": {"id": "exec-1", "flowId": "f-1", "status": "failed"},
    "steps": [STEP_S1, STEP_S2],
}


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> Tracer:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test")


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def spans(exporter: InMemorySpanExporter) -> dict[str, list[ReadableSpan]]:
    found: dict[str, list[ReadableSpan]] = {}
    for span in exporter.get_finished_spans():
        found.setdefault(span.name, []).append(span)
    return found


def test_call_span_of_a_completed_execute(
    api: respx.MockRouter, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    api.post(EXECUTE).respond(200, json=COMPLETED)
    with Noukai(KEY, otel=True, tracer=tracer) as client:
        client.flow("o/p/s").execute("hi")
    [span] = exporter.get_finished_spans()
    assert span.name == "noukai.flow.execute"
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes or {}) == {
        "noukai.org": "o",
        "noukai.project": "p",
        "noukai.flow.slug": "s",
        "noukai.flow.version": "production",
        "noukai.execution_id": "exec-1",
        "noukai.flow.status": "completed",
    }
    assert span.status.status_code is StatusCode.UNSET


async def test_async_call_span_and_a_failed_status_is_not_an_error(
    api: respx.MockRouter, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    api.post(f"{BASE}/seq/o/p/s/v3/execute").respond(200, json={**COMPLETED, "status": "failed"})
    async with AsyncNoukai(KEY, otel=True, tracer=tracer) as client:
        await client.flow("o/p/s").execute("hi", version=3)
    [span] = exporter.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["noukai.flow.version"] == "3"
    assert span.attributes["noukai.flow.status"] == "failed"
    assert span.status.status_code is StatusCode.UNSET


def test_the_span_is_current_during_the_call(
    api: respx.MockRouter, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    from opentelemetry import trace

    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(trace.get_current_span().get_span_context().span_id.to_bytes(8, "big").hex())
        return httpx.Response(200, json=COMPLETED)

    api.post(EXECUTE).mock(side_effect=handler)
    with tracer.start_as_current_span("app"), Noukai(KEY, otel=True, tracer=tracer) as client:
        client.flow("o/p/s").execute("hi")
    call = spans(exporter)["noukai.flow.execute"][0]
    app = spans(exporter)["app"][0]
    assert call.parent is not None and call.parent.span_id == app.context.span_id
    assert seen == [call.context.span_id.to_bytes(8, "big").hex()]


def test_http_errors_are_recorded_once_and_reraised(
    api: respx.MockRouter, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    api.post(EXECUTE).respond(404, json={"detail": {"code": "FLOW_NOT_FOUND", "message": "nope"}})
    with Noukai(KEY, otel=True, tracer=tracer) as client, pytest.raises(FlowNotFoundError):
        client.flow("o/p/s").execute("hi")
    [span] = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "nope"
    assert [event.name for event in span.events] == ["exception"]
    assert span.attributes is not None and "noukai.execution_id" not in span.attributes


@pytest.mark.parametrize(("version", "text"), [(-1, "-1"), ("latest", "latest")])
def test_client_side_errors_are_recorded_with_the_given_version(
    tracer: Tracer, exporter: InMemorySpanExporter, version: Any, text: str
) -> None:
    with Noukai(KEY, otel=True, tracer=tracer) as client, pytest.raises(ValueError):
        client.flow("o/p/s").execute("hi", version=version)
    [span] = exporter.get_finished_spans()
    assert span.attributes is not None and span.attributes["noukai.flow.version"] == text
    assert span.status.status_code is StatusCode.ERROR


def test_a_failing_tool_handler_is_recorded(
    api: respx.MockRouter, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    api.post(EXECUTE).respond(
        200,
        json={
            "status": "tool_calls_required",
            "executionId": "exec-1",
            "pausedAtStep": "s1",
            "iterationsUsed": 1,
            "toolCallMessages": [],
            "toolCalls": [{"id": "t1"}],
            "flowId": "f-1",
            "blockCount": 1,
        },
    )

    def broken(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise RuntimeError("tool exploded")

    with Noukai(KEY, otel=True, tracer=tracer) as client, pytest.raises(RuntimeError):
        client.flow("o/p/s").execute("hi", tool_handler=broken)
    [span] = exporter.get_finished_spans()
    assert span.status.description == "tool exploded"


def test_a_pause_has_its_status_and_never_triggers_step_spans(
    api: respx.MockRouter, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    api.post(EXECUTE).respond(
        200,
        json={
            "status": "tool_calls_required",
            "executionId": "exec-1",
            "pausedAtStep": "s1",
            "iterationsUsed": 1,
            "toolCallMessages": [],
            "toolCalls": [{"id": "t1"}],
            "flowId": "f-1",
            "blockCount": 1,
        },
    )
    trace_route = api.get(TRACE).respond(200, json=TRACE_BODY)
    with Noukai(KEY, otel_steps=True, tracer=tracer) as client:
        outcome = client.flow("o/p/s").execute("hi")
    assert isinstance(outcome, PausedResult)
    [span] = exporter.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["noukai.flow.status"] == "tool_calls_required"
    assert not trace_route.called


def test_execute_async_span_carries_the_job_id(
    api: respx.MockRouter, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    api.post(f"{BASE}/seq/o/p/s/jobs").respond(
        202, json={"executionId": "job-7", "status": "pending", "flowId": "f-1", "blockCount": 1}
    )
    with Noukai(KEY, otel_steps=True, tracer=tracer) as client:
        job = client.flow("o/p/s").execute_async("hi")
    assert job.execution_id == "job-7"
    [span] = exporter.get_finished_spans()
    assert span.name == "noukai.flow.execute_async"
    assert span.attributes is not None
    assert span.attributes["noukai.execution_id"] == "job-7"
    assert "noukai.flow.status" not in span.attributes


def test_step_spans_from_the_run_trace(
    api: respx.MockRouter, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    api.post(EXECUTE).respond(200, json=COMPLETED)
    api.get(TRACE).respond(200, json=TRACE_BODY)
    before = time.time_ns()
    with Noukai(KEY, otel_steps=True, tracer=tracer) as client:
        client.flow("o/p/s").execute("hi")
    found = spans(exporter)
    call = found["noukai.flow.execute"][0]
    first, second = found["noukai.flow.step"]
    for step in (first, second):
        assert step.kind is SpanKind.INTERNAL
        assert step.parent is not None and step.parent.span_id == call.context.span_id
    assert dict(first.attributes or {}) == {
        "noukai.step.id": "s1",
        "noukai.step.attempt": 1,
        "noukai.step.status": "completed",
        "noukai.step.duration_ms": 1500,
        "gen_ai.request.model": "m1",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 5,
        "noukai.step.cost_usd": "0.0001",
    }
    assert first.start_time == 1_780_221_600_000_000_000
    assert first.end_time == 1_780_221_601_500_000_000
    assert first.status.status_code is StatusCode.UNSET
    assert dict(second.attributes or {}) == {
        "noukai.step.id": "s2",
        "noukai.step.attempt": 2,
        "noukai.step.status": "failed",
        "noukai.step.loop_index": 0,
    }
    assert second.start_time == 1_780_221_602_123_456_000
    assert second.end_time is not None and second.end_time >= before  # no completedAt: "now"
    assert second.status.status_code is StatusCode.ERROR
    assert second.status.description is None


async def test_async_step_spans_with_payloads(
    api: respx.MockRouter, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    api.post(EXECUTE).respond(200, json=COMPLETED)
    api.get(TRACE).respond(200, json=TRACE_BODY)
    async with AsyncNoukai(KEY, otel_step_payloads=True, tracer=tracer) as client:
        await client.flow("o/p/s").execute("hi")
    first, second = spans(exporter)["noukai.flow.step"]
    assert first.attributes is not None and second.attributes is not None
    assert first.attributes["noukai.step.input"] == '{"message": "hi"}'
    assert first.attributes["noukai.step.output"] == '{"text": "hello"}'
    assert "noukai.step.error" not in first.attributes
    assert second.attributes["noukai.step.error"] == '{"error": "boom"}'


def test_payloads_are_cut_at_4096_characters(
    api: respx.MockRouter, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    big = {"text": "x" * 4997}  # {"text": "…"} is 5,009 characters of JSON
    assert len(json.dumps(big)) == 5009
    api.post(EXECUTE).respond(200, json=COMPLETED)
    api.get(TRACE).respond(200, json={**TRACE_BODY, "steps": [{**STEP_S1, "outputContext": big}]})
    with Noukai(KEY, otel_step_payloads=True, tracer=tracer) as client:
        client.flow("o/p/s").execute("hi")
    [step] = spans(exporter)["noukai.flow.step"]
    assert step.attributes is not None
    assert step.attributes["noukai.step.output"] == (
        json.dumps(big)[:4096] + "…[truncated 913 chars]"
    )
    assert "noukai.step.input" in step.attributes  # payload flag implies step spans


def test_payloads_stay_off_with_only_otel_steps(
    api: respx.MockRouter, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    api.post(EXECUTE).respond(200, json=COMPLETED)
    api.get(TRACE).respond(200, json=TRACE_BODY)
    with Noukai(KEY, otel_steps=True, tracer=tracer) as client:
        client.flow("o/p/s").execute("hi")
    for step in spans(exporter)["noukai.flow.step"]:
        assert not any(key.startswith("noukai.step.in") for key in step.attributes or {})


@pytest.mark.parametrize(
    "trace_response",
    [httpx.Response(500, json={"detail": "down"}), httpx.Response(200, json={"steps": "?"})],
)
def test_a_failing_trace_fetch_is_swallowed(
    api: respx.MockRouter,
    tracer: Tracer,
    exporter: InMemorySpanExporter,
    trace_response: httpx.Response,
) -> None:
    api.post(EXECUTE).respond(200, json=COMPLETED)
    api.get(TRACE).mock(return_value=trace_response)
    with Noukai(KEY, otel_steps=True, tracer=tracer, max_retries=0) as client:
        result = client.flow("o/p/s").execute("hi")
    assert isinstance(result, ExecuteResult) and result.output == "ok"
    found = spans(exporter)
    assert "noukai.flow.step" not in found
    assert found["noukai.flow.execute"][0].status.status_code is StatusCode.UNSET


def test_a_tracer_alone_does_nothing(
    api: respx.MockRouter, tracer: Tracer, exporter: InMemorySpanExporter
) -> None:
    api.post(EXECUTE).respond(200, json=COMPLETED)
    with Noukai(KEY, tracer=tracer) as client:
        flow = client.flow("o/p/s")
        flow.execute("hi")
    assert type(flow) is Flow
    assert exporter.get_finished_spans() == ()


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_nothing_from_opentelemetry_is_imported_when_off() -> None:
    output = run_python(
        f"""
        import sys
        import httpx
        import noukai_sdk

        body = {COMPLETED!r}
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
        with noukai_sdk.Noukai({KEY!r}, http_client=httpx.Client(transport=transport)) as client:
            client.flow("o/p/s").execute("hi")
        loaded = sorted(m for m in sys.modules if m.startswith(("opentelemetry", "noukai_sdk._otel")))
        print(loaded)
        """
    )
    assert output == "[]"


def test_otel_without_opentelemetry_fails_at_construction() -> None:
    output = run_python(
        f"""
        import sys
        sys.modules["opentelemetry"] = None  # as if the [otel] extra were not installed
        import noukai_sdk

        for flags in ({{"otel": True}}, {{"otel_steps": True}}, {{"otel_step_payloads": True}}):
            try:
                noukai_sdk.AsyncNoukai({KEY!r}, **flags)
            except noukai_sdk.NoukaiError as error:
                assert type(error) is noukai_sdk.NoukaiError, type(error)
                assert error.status_code is None and error.code is None
                assert "[otel]" in str(error) and "tracer=" in str(error), str(error)
            else:
                raise AssertionError(flags)
        noukai_sdk.Noukai({KEY!r}, otel=True, tracer=object())  # an explicit tracer is enough
        print("ok")
        """
    )
    assert output == "ok"


def test_without_a_tracer_the_global_provider_is_used() -> None:
    output = run_python(
        f"""
        import httpx
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import noukai_sdk

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        body = {COMPLETED!r}
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
        client = noukai_sdk.Noukai({KEY!r}, otel=True, http_client=httpx.Client(transport=transport))
        client.flow("o/p/s").execute("hi")
        [span] = exporter.get_finished_spans()
        scope = span.instrumentation_scope
        print(span.name, scope.name, scope.version == noukai_sdk.__version__)
        """
    )
    assert output == "noukai.flow.execute noukai-sdk True"


def test_the_no_otel_path_is_the_plain_flow() -> None:
    with Noukai(KEY) as client:
        assert type(client.flow("o/p/s")) is Flow
