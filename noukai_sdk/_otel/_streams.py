"""Spans for streams and trace context for every request, when OpenTelemetry is on.

A stream (``steps()``, ``events()``, ``live_trace()``) gets one CLIENT span that starts with its
first request and ends when the stream finishes, fails or is closed early; each event it yields
is recorded as a span event (step boundaries with their duration, tokens and cost). The span is
wrapped around the stream's protocol, so the sync and async streams share this code, and it is
the current span while the protocol runs, so the requests it sends carry its trace context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from noukai_sdk._core.effects import Emit, Steps

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span

    from noukai_sdk._otel._traced import OtelSettings


def trace_context_headers() -> dict[str, str]:
    """The active span's context as headers (``traceparent``/``tracestate`` with the default
    W3C propagator; whatever the app configured globally otherwise). Empty without a span."""
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


class StreamSpan:
    """The span of one stream: opened lazily by the first request, ended exactly once."""

    __slots__ = ("_attributes", "_name", "_settings", "_span", "_span_context")

    def __init__(self, settings: OtelSettings, name: str, attributes: Mapping[str, Any]) -> None:
        self._settings = settings
        self._name = name
        self._attributes = dict(attributes)
        self._span: Span | None = None
        self._span_context: Context | None = None

    def attach(self) -> object:
        """Make the span current (opening it on first use); returns the token for :meth:`detach`."""
        from opentelemetry import context, trace

        if self._span is None:
            self._span = self._settings.resolve_tracer().start_span(
                self._name, kind=trace.SpanKind.CLIENT, attributes=self._attributes
            )
            self._span_context = trace.set_span_in_context(self._span)
        return context.attach(self._span_context)  # type: ignore[arg-type]

    def detach(self, token: object) -> None:
        from opentelemetry import context

        context.detach(token)  # type: ignore[arg-type]

    def observe(self, event: Any) -> None:
        """Record one yielded event as a span event; the run's id and status as attributes."""
        if self._span is None:
            return
        kind = getattr(event, "type", None) or type(event).__name__
        self._span.add_event(f"noukai.{kind}", attributes=event_attributes(event))
        execution_id = getattr(event, "execution_id", None)
        if isinstance(execution_id, str) and execution_id:
            self._span.set_attribute("noukai.execution_id", execution_id)
        if kind == "flow_completed" and isinstance(getattr(event, "status", None), str):
            self._span.set_attribute("noukai.flow.status", event.status)

    def fail(self, error: BaseException) -> None:
        from opentelemetry.trace import Status, StatusCode

        if self._span is not None:
            self._span.record_exception(error)
            self._span.set_status(Status(StatusCode.ERROR, str(error)))
        self.end()

    def end(self, *, closed_early: bool = False) -> None:
        if self._span is None:
            return
        if closed_early:
            self._span.set_attribute("noukai.stream.closed_early", True)
        self._span.end()
        self._span = None


def event_attributes(event: Any) -> dict[str, str | int]:
    """A step boundary's facts that fit span attributes; nothing of the payloads."""
    attributes: dict[str, str | int] = {}
    for name, key in (
        ("step_id", "noukai.step.id"),
        ("step_index", "noukai.step.index"),
        ("duration_ms", "noukai.step.duration_ms"),
        ("cost_usd", "noukai.step.cost_usd"),
    ):
        value = getattr(event, name, None)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            attributes[key] = value
    tokens = getattr(event, "tokens", None)
    if tokens is not None:
        for name, key in (
            ("prompt", "gen_ai.usage.input_tokens"),
            ("completion", "gen_ai.usage.output_tokens"),
        ):
            value = getattr(tokens, name, None)
            if isinstance(value, int):
                attributes[key] = value
    return attributes


def traced_protocol(protocol: Steps[Any], span: StreamSpan) -> Steps[Any]:
    """``protocol`` with ``span`` current while it runs, its events recorded, its end ending it."""
    value: Any = None
    error: BaseException | None = None
    while True:
        token = span.attach()
        try:
            effect = protocol.send(value) if error is None else protocol.throw(error)
        except StopIteration as stop:
            span.end()
            return stop.value
        except BaseException as exc:
            span.fail(exc)
            raise
        finally:
            span.detach(token)
        if isinstance(effect, Emit):
            span.observe(effect.value)
        try:
            value, error = (yield effect), None
        except GeneratorExit:
            protocol.close()
            span.end(closed_early=True)
            raise
        except BaseException as exc:
            value, error = None, exc
