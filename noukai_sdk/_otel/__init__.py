"""OpenTelemetry feature: the span-emitting flows a client builds when an ``otel*`` flag is set."""

from noukai_sdk._otel._traced import AsyncTracedFlow, OtelSettings, TracedFlow

__all__ = ["AsyncTracedFlow", "OtelSettings", "TracedFlow"]
