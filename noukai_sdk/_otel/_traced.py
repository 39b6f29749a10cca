"""Opt-in OpenTelemetry: one CLIENT span per ``execute``/``execute_async`` and, with ``otel_steps``,
one INTERNAL child span per block of the finished run (from ``run.trace()``); one CLIENT span per
``steps()``/``events()``/``live_trace()`` stream (see :mod:`noukai_sdk._otel._streams`).

This module is imported only by a client constructed with an ``otel*`` flag; OpenTelemetry itself
is imported then (without an explicit ``tracer``, to fail early when it is missing) or when the
first span opens. With every flag off neither is ever imported and calls are not wrapped at all.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from noukai_sdk._core.effects import Steps
from noukai_sdk._core.errors import NoukaiError
from noukai_sdk._core.paths import Version
from noukai_sdk._core.results import ExecuteResult, PausedResult
from noukai_sdk._flows import AsyncFlow, Flow, _FlowCore
from noukai_sdk._otel._streams import StreamSpan, trace_context_headers, traced_protocol
from noukai_sdk._runs import AsyncRun, Run
from noukai_sdk._version import __version__

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

    from noukai_sdk._core.link import AsyncLink, SyncLink
    from noukai_sdk._core.options import ExecuteOptions, JobOptions
    from noukai_sdk._core.paths import FlowAddress
    from noukai_sdk._core.results import ExecuteOutcome, JobAccepted
    from noukai_sdk._core.scope import ReplayedJob
    from noukai_sdk_generated.models import StepTrace, Trace

OutcomeT = TypeVar("OutcomeT")

TRACER_NAME = "noukai-sdk"
PAYLOAD_LIMIT = 4096
"""Characters kept of each step payload attribute before the truncation marker."""

_TRACED_STATUSES = frozenset({"completed", "failed"})
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class OtelSettings:
    """What a client's ``otel``, ``tracer``, ``otel_steps`` and ``otel_step_payloads`` asked for."""

    tracer: Any
    """The explicit ``Tracer``, or ``None`` for the global provider's ``noukai-sdk`` tracer."""
    steps: bool
    payloads: bool

    @classmethod
    def create(cls, *, tracer: Any, steps: bool, payloads: bool) -> OtelSettings:
        """Settings for a client with at least one flag on; checks OpenTelemetry is importable."""
        if tracer is None:
            try:
                importlib.import_module("opentelemetry.trace")
            except ImportError as exc:
                raise NoukaiError(
                    "otel=True (or otel_steps/otel_step_payloads) needs OpenTelemetry: install "
                    "the extra with `pip install 'noukai-sdk[otel]'`, or pass an explicit tracer=."
                ) from exc
        return cls(tracer=tracer, steps=steps or payloads, payloads=payloads)

    def propagation_headers(self) -> dict[str, str]:
        """The current span's trace context for an outgoing request; never breaks the request."""
        try:
            return trace_context_headers()
        except Exception:  # OpenTelemetry missing (explicit tracer) or a broken propagator
            return {}

    def resolve_tracer(self) -> Tracer:
        if self.tracer is not None:
            tracer: Tracer = self.tracer
            return tracer
        from opentelemetry import trace

        return trace.get_tracer(TRACER_NAME, __version__)


@contextmanager
def call_span(
    settings: OtelSettings, flow: Flow | AsyncFlow, method: str, version: object
) -> Generator[Span, None, None]:
    """The CLIENT span ``noukai.flow.<method>``, current for the whole call.

    An exception is recorded once, sets the status to ERROR with ``str(exc)`` and is re-raised.
    """
    from opentelemetry.trace import SpanKind, Status, StatusCode

    attributes = flow_attributes(flow, version)
    with settings.resolve_tracer().start_as_current_span(
        f"noukai.flow.{method}",
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            raise


def flow_attributes(flow: Flow | AsyncFlow, version: object) -> dict[str, str]:
    """The attributes naming the flow a span is about."""
    return {
        "noukai.org": flow.org,
        "noukai.project": flow.project,
        "noukai.flow.slug": flow.slug,
        "noukai.flow.version": "production" if version is None else str(version),
    }


def traced_stream(
    flow: TracedFlow | AsyncTracedFlow, name: str, version: object, protocol: Steps[None]
) -> Steps[None]:
    """A stream's protocol inside its own span ``name``."""
    span = StreamSpan(_settings(flow), name, flow_attributes(flow, version))
    return traced_protocol(protocol, span)


def record_outcome(span: Span, outcome: object) -> None:
    """End attributes: the execution id, and the status of an execute result (not of a job)."""
    execution_id = getattr(outcome, "execution_id", None)
    if isinstance(execution_id, str) and execution_id:
        span.set_attribute("noukai.execution_id", execution_id)
    if isinstance(outcome, (ExecuteResult, PausedResult)):
        span.set_attribute("noukai.flow.status", outcome.status)


def step_trace_target(settings: OtelSettings, outcome: object) -> str | None:
    """The execution whose blocks get child spans: a finished run, when ``otel_steps`` is on."""
    if not settings.steps or not isinstance(outcome, ExecuteResult):
        return None
    if outcome.status not in _TRACED_STATUSES or not outcome.execution_id:
        return None
    return outcome.execution_id


def emit_step_spans(settings: OtelSettings, trace: Trace) -> None:
    """One ``noukai.flow.step`` span per traced step, in order, under the current (call) span."""
    from opentelemetry.trace import SpanKind, Status, StatusCode

    tracer = settings.resolve_tracer()
    for step in trace.steps:
        span = tracer.start_span(
            "noukai.flow.step",
            kind=SpanKind.INTERNAL,
            start_time=epoch_ns(step.started_at),
            attributes=step_attributes(step, payloads=settings.payloads),
        )
        if step.status == "failed":
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=epoch_ns(step.completed_at))


def step_attributes(step: StepTrace, *, payloads: bool) -> dict[str, str | int]:
    """A step span's attributes; optional ones only when present."""
    attributes: dict[str, str | int] = {
        "noukai.step.id": step.step_id,
        "noukai.step.attempt": step.attempt,
        "noukai.step.status": step.status,
    }
    if step.duration_ms is not None:
        attributes["noukai.step.duration_ms"] = step.duration_ms
    if step.loop_index is not None:
        attributes["noukai.step.loop_index"] = step.loop_index
    if step.model_used is not None:
        attributes["gen_ai.request.model"] = step.model_used
    if step.tokens is not None:
        attributes["gen_ai.usage.input_tokens"] = step.tokens.prompt
        attributes["gen_ai.usage.output_tokens"] = step.tokens.completion
    if step.cost_usd is not None:
        attributes["noukai.step.cost_usd"] = step.cost_usd
    if payloads:
        for name, value in (
            ("noukai.step.input", step.input_context),
            ("noukai.step.output", step.output_context),
            ("noukai.step.error", step.error_context),
        ):
            if value is not None:
                attributes[name] = bounded_payload(value)
    return attributes


def bounded_payload(value: Any) -> str:
    """``value`` as JSON text, cut to 4,096 characters plus ``…[truncated N chars]``."""
    text = json.dumps(value, default=str)
    if len(text) <= PAYLOAD_LIMIT:
        return text
    return f"{text[:PAYLOAD_LIMIT]}…[truncated {len(text) - PAYLOAD_LIMIT} chars]"


def epoch_ns(timestamp: str | None) -> int:
    """An ISO 8601 time (``Z`` accepted; naive means UTC) in epoch nanoseconds; else now."""
    parsed = _parse_iso(timestamp) if timestamp else None
    if parsed is None:
        return time.time_ns()
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return (parsed - _EPOCH) // timedelta(microseconds=1) * 1000


def _parse_iso(text: str) -> datetime | None:
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    # Python 3.10 only reads 3 or 6 fractional digits: pad or cut them to 6.
    head, dot, rest = text.partition(".")
    if not dot:
        return None
    digits = len(rest) - len(rest.lstrip("0123456789"))
    fraction, zone = rest[:digits], rest[digits:]
    try:
        return datetime.fromisoformat(f"{head}.{fraction[:6].ljust(6, '0')}{zone}")
    except ValueError:
        return None


def _settings(flow: TracedFlow | AsyncTracedFlow) -> OtelSettings:
    return flow._settings


def live_trace_span(
    flow: TracedFlow | AsyncTracedFlow, execution_id: str
) -> Callable[[Steps[None]], Steps[None]]:
    """What a traced flow's runs do to their ``live_trace()`` protocol: wrap it in a span."""

    def observe(protocol: Steps[None]) -> Steps[None]:
        span = StreamSpan(
            _settings(flow),
            "noukai.run.live_trace",
            {**flow_attributes(flow, None), "noukai.execution_id": execution_id},
        )
        return traced_protocol(protocol, span)

    return observe


def traced_call(
    flow: TracedFlow | AsyncTracedFlow,
    method: str,
    version: object,
    protocol: Callable[[], Steps[OutcomeT]],
) -> Steps[OutcomeT]:
    """A call's protocol (built inside the span, so a refused argument is recorded too) in its
    CLIENT span; with ``otel_steps``, the finished run's blocks as child spans afterwards."""
    settings = _settings(flow)
    with call_span(settings, flow, method, version) as span:
        outcome = yield from protocol()
        record_outcome(span, outcome)
        execution_id = step_trace_target(settings, outcome)
        if execution_id is not None:
            # Step spans are best effort: the call itself has succeeded.
            with contextlib.suppress(Exception):
                trace = yield from flow.run(execution_id)._trace_protocol(None)
                emit_step_spans(settings, trace)
        return outcome


class _TracedCalls(_FlowCore[Any, Any, Any, Any, Any, Any]):
    """What both traced flows do: ``execute``/``execute_async`` and streams inside spans."""

    __slots__ = ()
    _settings: OtelSettings

    def _observe(self, method: str, version: Version, protocol: Steps[None]) -> Steps[None]:
        return traced_stream(self.traced, f"noukai.flow.{method}", version, protocol)

    def _execute_protocol(
        self, message: str | None, tool_handler: Any, output_type: Any, options: ExecuteOptions
    ) -> Steps[ExecuteOutcome]:
        build = partial(super()._execute_protocol, message, tool_handler, output_type, options)
        return traced_call(self.traced, "execute", options.get("version"), build)

    def _submit_protocol(
        self, message: str | None, options: JobOptions
    ) -> Steps[JobAccepted | ReplayedJob]:
        build = partial(super()._submit_protocol, message, options)
        return traced_call(self.traced, "execute_async", options.get("version"), build)

    @property
    def traced(self) -> TracedFlow | AsyncTracedFlow:
        return cast("TracedFlow | AsyncTracedFlow", self)


class TracedFlow(_TracedCalls, Flow):
    """A :class:`Flow` whose calls and streams run inside spans."""

    __slots__ = ("_settings",)

    def __init__(self, link: SyncLink, address: FlowAddress, settings: OtelSettings) -> None:
        super().__init__(link, address)
        self._settings = settings

    def run(self, execution_id: str) -> Run:
        return Run(
            self._link, self._address, execution_id, observe=live_trace_span(self, execution_id)
        )


class AsyncTracedFlow(_TracedCalls, AsyncFlow):
    """An :class:`AsyncFlow` whose calls and streams run inside spans."""

    __slots__ = ("_settings",)

    def __init__(self, link: AsyncLink, address: FlowAddress, settings: OtelSettings) -> None:
        super().__init__(link, address)
        self._settings = settings

    def run(self, execution_id: str) -> AsyncRun:
        observe = live_trace_span(self, execution_id)
        return AsyncRun(self._link, self._address, execution_id, observe=observe)
