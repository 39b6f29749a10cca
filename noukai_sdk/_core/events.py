"""Typed stream events and :func:`parse_event`, which turns one decoded SSE frame into one of them.

The event classes are thin subclasses of the generated models (the fields live in openapi.yaml
only); each adds a constant ``type`` for ``match event.type:`` and nothing else, except
:class:`ToolCallsRequired`, which carries the manual ``resume()``/``resume_sync()`` of the step
protocol. Frames validate straight from bytes (pydantic-core's JSON parser) on the hot path.

Control events (those that drive the step protocol: run start, step completion, pauses, step
error, flow completion) that fail validation raise :class:`APIResponseValidationError`: dropping
one would let a broken run look like a finished one. Other invalid frames are skipped with a
warning on the ``noukai_sdk.streaming`` logger; unknown event types are skipped silently so new
server events do not break old clients.
"""

from __future__ import annotations

import builtins
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar, get_args

from pydantic import PrivateAttr, ValidationError

from noukai_sdk._core.errors import APIResponseValidationError
from noukai_sdk_generated import models as _generated
from noukai_sdk_generated import unions as _generated_unions

logger = logging.getLogger("noukai_sdk.streaming")

ToolResults = Sequence[Mapping[str, Any]]


class RunStarted(_generated.RunStarted):
    """A run started (also sent under the legacy name ``flow_started``)."""

    type: ClassVar[Literal["run_started"]] = "run_started"


class StepStarted(_generated.StepStarted):
    """A step started; ``step_index`` is the server's value, else the SDK's own count."""

    type: ClassVar[Literal["step_started"]] = "step_started"


class StepInput(_generated.StepInput):
    """The input a step received."""

    type: ClassVar[Literal["step_input"]] = "step_input"


class StepOutput(_generated.StepOutput):
    """Partial or final output of a running step."""

    type: ClassVar[Literal["step_output"]] = "step_output"


class StepProgress(_generated.StepProgress):
    """Progress of a long-running step."""

    type: ClassVar[Literal["step_progress"]] = "step_progress"


OutT = TypeVar("OutT")


class StepCompleted(_generated.StepCompleted):
    """A step finished; ``step_index`` is the index of that step."""

    type: ClassVar[Literal["step_completed"]] = "step_completed"

    def parse(self, output_type: builtins.type[OutT]) -> OutT:
        """This step's ``output`` validated as ``output_type``, the way ``execute()`` does it.

        A JSON value is validated as is, a string holding JSON (fenced or not) is parsed from
        text; a mismatch raises ``OutputValidationError``.
        """
        from noukai_sdk._core.output import parse_output

        return parse_output(output_type, self.output, source=f"step {self.step_id!r}")


class StepFailed(_generated.StepFailed):
    """A step failed and the run stopped (``events()`` yields it; ``steps()`` raises instead)."""

    type: ClassVar[Literal["step_error"]] = "step_error"


class StepPaused(_generated.StepPaused):
    """The run paused between steps; ``step_index`` is the index the next ``/step`` call runs."""

    type: ClassVar[Literal["step_paused"]] = "step_paused"


class LoopCompleted(_generated.LoopCompleted):
    """A loop step finished all its iterations."""

    type: ClassVar[Literal["loop_completed"]] = "loop_completed"


class FlowCompleted(_generated.FlowCompleted):
    """The run finished; ``result`` is the flow's output."""

    type: ClassVar[Literal["flow_completed"]] = "flow_completed"


class ToolCallsRequired(_generated.ToolCallsRequired):
    """A step paused for tool calls.

    Without a ``tool_handler``, ``events()`` yields this event: answer the calls in
    ``tool_calls`` with ``await event.resume(results)`` (``AsyncNoukai``) or
    ``event.resume_sync(results)`` (``Noukai``) before asking for the next event. Resuming only
    stages the results; the next ``/step`` request goes out when iteration continues.
    """

    type: ClassVar[Literal["tool_calls_required"]] = "tool_calls_required"

    _stage_results: Callable[[ToolResults], None] | None = PrivateAttr(default=None)
    _async_client: bool = PrivateAttr(default=False)

    def resume(self, tool_results: ToolResults) -> Awaitable[None]:
        """Stage ``tool_results`` for the next ``/step`` call (async client)."""
        stage = self._resumer(wanted_async=True)

        async def staged() -> None:
            stage(tool_results)

        return staged()

    def resume_sync(self, tool_results: ToolResults) -> None:
        """Stage ``tool_results`` for the next ``/step`` call (sync client)."""
        self._resumer(wanted_async=False)(tool_results)

    def _resumer(self, *, wanted_async: bool) -> Callable[[ToolResults], None]:
        stage = self._stage_results
        if stage is None:
            raise RuntimeError(
                "This ToolCallsRequired was not yielded by a live events() iteration "
                "(it was constructed manually or replayed), so it cannot be resumed."
            )
        if wanted_async and not self._async_client:
            raise TypeError("resume() is for AsyncNoukai streams; on Noukai use resume_sync().")
        if not wanted_async and self._async_client:
            raise TypeError(
                "resume_sync() is for Noukai streams; on AsyncNoukai use await resume()."
            )
        return stage


StreamEvent: TypeAlias = (
    RunStarted
    | StepStarted
    | StepInput
    | StepOutput
    | StepProgress
    | StepCompleted
    | StepFailed
    | StepPaused
    | ToolCallsRequired
    | LoopCompleted
    | FlowCompleted
)
"""Every event ``events()`` and ``live_trace()`` can yield."""

EVENT_CLASSES: tuple[type[StreamEvent], ...] = get_args(StreamEvent)

CONTROL_EVENTS: frozenset[type[StreamEvent]] = frozenset(
    {RunStarted, StepCompleted, StepPaused, ToolCallsRequired, StepFailed, FlowCompleted}
)
"""Events the step protocol acts on: they must validate, never be skipped."""


_PUBLIC_CLASS: dict[type[Any], type[StreamEvent]] = {cls.__bases__[0]: cls for cls in EVENT_CLASSES}

EVENT_TYPES: dict[str, type[StreamEvent]] = {
    name: _PUBLIC_CLASS[model] for name, model in _generated_unions.EVENT_MODELS.items()
}
"""Discriminator (``event:`` field or payload event type) -> public event class."""

_EVENT_TYPE_KEY: str = _generated_unions.EVENT_DISCRIMINATOR


def parse_event(
    event_name: str, data: bytes, *, request_id: str | None = None
) -> StreamEvent | None:
    """The typed event for one SSE frame, or ``None`` when the frame is to be skipped.

    The discriminator is ``event_name`` when non-empty, else the payload's event type; when both
    are present the frame's name wins. Raises :class:`APIResponseValidationError` for a control
    event that does not validate.
    """
    if event_name:
        cls = EVENT_TYPES.get(event_name)
        if cls is None:
            return None
        try:
            event = cls.model_validate_json(data)
        except ValidationError as exc:
            return _parse_slowly(cls, event_name, data, exc, request_id)
        if event.event_type != event_name:
            event.event_type = event_name  # type: ignore[assignment]
        return event
    payload = _json_object(data)
    if payload is None:
        return None
    name = payload.get(_EVENT_TYPE_KEY)
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        return None
    try:
        return cls.model_validate(payload)
    except ValidationError as exc:
        _invalid(cls, data, exc, request_id)
        return None


def _parse_slowly(
    cls: type[StreamEvent],
    event_name: str,
    data: bytes,
    error: ValidationError,
    request_id: str | None,
) -> StreamEvent | None:
    """The frame's name overrides a conflicting payload event type."""
    payload = _json_object(data)
    if payload is None or payload.get(_EVENT_TYPE_KEY, event_name) == event_name:
        _invalid(cls, data, error, request_id)
        return None
    payload[_EVENT_TYPE_KEY] = event_name
    try:
        return cls.model_validate(payload)
    except ValidationError as exc:
        _invalid(cls, data, exc, request_id)
        return None


def _json_object(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None  # pyright: ignore[reportUnknownVariableType]


def _invalid(
    cls: type[StreamEvent], data: bytes, error: ValidationError, request_id: str | None
) -> None:
    problem = _describe(error)
    name = wire_event_type(cls)
    if cls in CONTROL_EVENTS:
        raise APIResponseValidationError(
            f"The server sent a {name} event that does not match its schema: {problem}",
            request_id=request_id,
            raw_body=data,
        ) from error
    logger.warning("Skipping invalid %s event: %s", name, problem)


def wire_event_type(cls: type[StreamEvent]) -> str:
    """The event type the server names ``cls`` with (its generated ``event_type`` default)."""
    default: str = cls.model_fields["event_type"].default
    return default


def _describe(error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "payload"
    more = error.error_count() - 1
    return f"{where}: {first['msg']}" + (f" (and {more} more)" if more else "")
