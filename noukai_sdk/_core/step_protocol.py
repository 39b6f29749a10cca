"""The step protocol behind ``Flow.steps()``/``events()``, written once for sync and async clients.

One logical run is a sequence of ``POST …/step`` calls, each answered by an SSE stream. The
:class:`StepCursor` is the small state machine that carries the run from one call to the next
(the server's ``stepIndex``/``executionId`` win over the client's own count, because a
resumed or re-run step is the server's to number); :func:`step_protocol` is the generator the
effect drivers run: it builds each
request body, reads the stream, stamps ``step_index``, handles tool pauses and decides when the
run is over. A stream that ends without a pause or a terminal event raises
:class:`StreamInterruptedError` with the cursor, never a silent "success"; a server that
keeps pausing without the run moving is abandoned after a few identical requests, never looped on.

:func:`live_trace_protocol` is the much simpler reader of ``GET …/runs/{id}/trace/stream``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noukai_sdk._core.config import check_timeout
from noukai_sdk._core.constants import DEFAULT_MAX_TOOL_ROUNDS
from noukai_sdk._core.effects import (
    READ_STREAM,
    CloseStream,
    Emit,
    Sleep,
    Steps,
    call_user,
    is_async,
    read_stream,
)
from noukai_sdk._core.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    FlowExecutionError,
    NoukaiError,
    StreamInterruptedError,
)
from noukai_sdk._core.events import (
    FlowCompleted,
    RunStarted,
    StepCompleted,
    StepFailed,
    StepPaused,
    StepStarted,
    ToolCallsRequired,
    ToolResults,
    parse_event,
)
from noukai_sdk._core.execute import as_list
from noukai_sdk._core.http_types import Timeout
from noukai_sdk._core.paths import FlowAddress, Version, validate_session_header, version_number
from noukai_sdk._core.requesting import RequestContext, open_event_stream
from noukai_sdk._core.resumed_events import ResumedEvents
from noukai_sdk._core.scope import resolve_session_id
from noukai_sdk._core.sse import EventStreamDecodeError, ServerSentEvent, SSEDecoder
from noukai_sdk._core.tool_calls import (
    check_tool_round_limit,
    normalize_tool_results,
    resolve_max_tool_rounds,
    warn_if_history_too_long,
)
from noukai_sdk_generated.constants import INVALID_STEP_INDEX_CODE
from noukai_sdk_generated.models import ErrorDetail, StepRequest

if TYPE_CHECKING:
    from noukai_sdk._core.http_types import HttpRequest, StreamHead

MAX_IDLE_SEGMENTS = 3
"""Consecutive ``/step`` answers that pause without any progress before the run is abandoned."""

ToolHandler = Callable[[list[dict[str, Any]]], Any]
"""Called with the pause's ``tool_calls``; returns the tool results (or an awaitable of them)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StepCall:
    """Everything one ``steps()``/``events()`` iteration needs, validated.

    ``version`` is the path's version number (``None`` = unversioned); ``session_id`` is already
    resolved (per-call > scope > client default) and goes on every ``/step`` call. Built by
    :meth:`from_args` from the public arguments.
    """

    address: FlowAddress
    version: int | None
    message: str | None = None
    parameters: Mapping[str, Any] | None = None
    attachments: Sequence[Mapping[str, Any]] | None = None
    input_overrides: Mapping[str, Any] | None = None
    block_overrides: Mapping[str, Mapping[str, Any]] | None = None
    tools: Sequence[Mapping[str, Any]] | None = None
    tool_choice: str | Mapping[str, Any] | None = None
    trace: bool = False
    run_remaining: bool = False
    session_id: str | None = None
    tool_handler: ToolHandler | None = None
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS
    only_steps: bool = False
    raise_failures: bool = False
    """Raise on ``step_error`` and on a tool pause without handler (``steps()`` and the text
    and object streams), instead of emitting the event."""
    entry: str = "events()"
    """The public method this call serves, for error messages."""
    auto_resume: int = 0
    """How many times a stream cut after the run started is resumed at its cursor."""
    timeout: Timeout = None

    @classmethod
    def from_args(
        cls,
        address: FlowAddress,
        *,
        client_session_id: str | None,
        only_steps: bool,
        entry: str = "events()",
        message: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        attachments: Sequence[Any] | None = None,
        input_overrides: Mapping[str, Any] | None = None,
        block_overrides: Mapping[str, Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        tool_handler: ToolHandler | None = None,
        max_tool_rounds: int | None = DEFAULT_MAX_TOOL_ROUNDS,
        trace: bool = False,
        run_remaining: bool = False,
        version: Version = None,
        timeout: Timeout = None,
        session_id: str | None = None,
        auto_resume: int = 0,
    ) -> StepCall:
        """The call for these public arguments, checked now rather than on the first event."""
        number = version_number(version)
        if number == 0:
            raise ValueError(
                f"{entry} cannot run the draft version (version='draft' or 0); "
                "publish a version, or omit version= to run production."
            )
        resolved = resolve_session_id(session_id, client_session_id)
        if resolved is not None:
            validate_session_header(resolved)
        return cls(
            address=address,
            version=number,
            message=message,
            parameters=parameters,
            attachments=as_list(attachments, name="attachments"),
            input_overrides=input_overrides,
            block_overrides=block_overrides,
            tools=as_list(tools, name="tools"),
            tool_choice=tool_choice,
            trace=bool(trace),
            run_remaining=run_remaining,
            session_id=resolved,
            tool_handler=tool_handler,
            max_tool_rounds=resolve_max_tool_rounds(max_tool_rounds),
            only_steps=only_steps,
            raise_failures=only_steps or entry != "events()",
            entry=entry,
            auto_resume=_check_auto_resume(auto_resume),
            timeout=check_timeout(timeout),
        )


@dataclass(slots=True)
class StepCursor:
    """Where the run stands between ``/step`` calls; the server's values win."""

    execution_id: str | None = None
    step_index: int = 0
    accumulated_outputs: dict[str, Any] = field(default_factory=lambda: {})
    tool_messages: list[Any] | None = None
    """Tool conversation staged for the next call (a tool resume), consumed by it."""
    iterations_used: int = 0
    tool_rounds: int = 0
    progress: int = 0
    """Step completions and tool pauses seen so far (tells a stuck server from a moving run)."""
    completed_steps: int = 0
    """``step_completed`` events seen so far (where a catch-up from the run's log starts)."""

    @property
    def is_first_call(self) -> bool:
        return self.step_index == 0 and self.execution_id is None and self.tool_messages is None

    def request_body(self, call: StepCall) -> Any:
        """The next ``/step`` body; consumes the staged tool messages."""
        first = self.is_first_call
        fields = {
            "execution_id": self.execution_id,
            "step_index": self.step_index,
            "accumulated_outputs": dict(self.accumulated_outputs),
            "message": call.message if first else None,
            "parameters": (call.parameters or {}) if first else {},
            "attachments": (call.attachments or None) if first else None,
            "input_overrides": call.input_overrides or {},
            "block_overrides": call.block_overrides or None,
            "run_remaining": call.run_remaining,
            "tools": call.tools or None,
            "tool_choice": call.tool_choice or None,
            "tool_call_messages": self.tool_messages,
            "iterations_used": self.iterations_used if self.tool_messages is not None else 0,
            "trace": call.trace,
        }
        body = StepRequest.model_validate(fields).to_wire()
        self.tool_messages = None
        self.iterations_used = 0
        return body

    def learn_execution_id(self, execution_id: str | None) -> None:
        if execution_id:
            self.execution_id = execution_id

    def step_started(self, event: StepStarted) -> None:
        if event.step_index is None:
            event.step_index = self.step_index

    def step_completed(self, event: StepCompleted) -> None:
        if event.step_index is None:
            event.step_index = self.step_index
        self.accumulated_outputs[event.step_id] = event.output
        self.step_index = event.step_index + 1
        self.progress += 1
        self.completed_steps += 1

    def step_paused(self, event: StepPaused) -> None:
        if event.step_index is None:
            event.step_index = self.step_index
        self.step_index = event.step_index

    def tool_pause(self, event: ToolCallsRequired) -> None:
        self.execution_id = event.execution_id
        self.step_index = event.step_index
        self.accumulated_outputs.update(event.accumulated_outputs or {})
        self.progress += 1

    def stage_tool_results(self, event: ToolCallsRequired, results: ToolResults) -> None:
        """Stage the pause's conversation plus ``results`` (any accepted shape) for the next call."""
        if self.tool_messages is not None:
            raise RuntimeError("These tool calls were already answered; resume only once.")
        messages = [*event.tool_call_messages, *normalize_tool_results(results, event.tool_calls)]
        warn_if_history_too_long(messages)
        self.tool_messages = messages
        self.iterations_used = event.iterations_used


def step_protocol(call: StepCall, ctx: RequestContext) -> Steps[None]:
    """Drive one logical run over as many ``/step`` calls as it takes, emitting typed events."""
    cursor = StepCursor()
    resumed = ResumedEvents() if call.auto_resume > 0 and not call.only_steps else None
    idle_segments = resumes = 0
    resuming = catching_up = False
    while True:
        if catching_up:
            # The server finished steps whose events the cut stream never delivered: read them
            # from the run's stored log (the live trace) instead of asking /step for them again.
            assert cursor.execution_id is not None
            request = call.address.live_trace_request(cursor.execution_id, timeout=call.timeout)
        else:
            request = call.address.operation_request(
                "step",
                version=call.version,
                body=cursor.request_body(call),
                session_id=call.session_id,
                timeout=call.timeout,
            )
        skip = cursor.completed_steps if catching_up else None
        before = (cursor.progress, cursor.step_index, cursor.execution_id)
        try:
            more = yield from _run_segment(call, ctx, cursor, request, resumed, skip)
        except NoukaiError as error:
            if resuming and not catching_up and _server_is_ahead(error, cursor):
                catching_up = True
                if resumed is not None:
                    resumed.resuming()
                continue
            if resumes >= call.auto_resume or not _resumable(error, cursor, resuming=resuming):
                raise
            delay = ctx.retry.delay(resumes)
            ctx.log.retry(request, attempt=resumes, delay=delay, reason="stream_interrupted")
            yield CloseStream()
            yield Sleep(delay)
            resumes += 1
            resuming = True
            catching_up = False
            if resumed is not None:
                resumed.resuming()
            continue
        resuming = catching_up = False
        if not more:
            return
        moved = (cursor.progress, cursor.step_index, cursor.execution_id) != before
        idle_segments = 0 if moved else idle_segments + 1
        if idle_segments >= MAX_IDLE_SEGMENTS:
            raise APIResponseValidationError(
                f"The server paused run {cursor.execution_id or '(id unknown)'} at step index "
                f"{cursor.step_index} {idle_segments} times in a row without completing a step; "
                "stopping instead of repeating the same /step request forever.",
                execution_id=cursor.execution_id,
            )


def _server_is_ahead(error: NoukaiError, cursor: StepCursor) -> bool:
    """Whether a resumed ``/step`` was refused because the run moved past the cursor: the cut
    came after the server had finished a step but before its ``step_completed`` arrived."""
    return error.code == INVALID_STEP_INDEX_CODE and cursor.execution_id is not None


def _check_auto_resume(auto_resume: object) -> int:
    if isinstance(auto_resume, bool) or not isinstance(auto_resume, int):
        raise TypeError(f"auto_resume must be an int, got {type(auto_resume).__name__}")
    if auto_resume < 0:
        raise ValueError(f"auto_resume must be 0 or more, got {auto_resume}")
    return auto_resume


def _resumable(error: NoukaiError, cursor: StepCursor, *, resuming: bool) -> bool:
    """Whether ``auto_resume`` may continue the run after ``error``.

    Only a run the server has started (its id is known) can be continued; a timeout is not a
    dropped connection, and a server still busy with the cut stream is asked again later.
    """
    if cursor.execution_id is None:
        return False
    if isinstance(error, APIConnectionError):
        return not isinstance(error, APITimeoutError)
    return resuming and error.code == "EXECUTION_BUSY"


def _run_segment(
    call: StepCall,
    ctx: RequestContext,
    cursor: StepCursor,
    request: HttpRequest,
    resumed: ResumedEvents | None,
    skip: int | None = None,
) -> Steps[bool]:
    """One ``/step`` call: read its stream; ``True`` when another call should follow.

    ``skip`` (reading the run's log from its start) passes over everything up to the ``skip``-th
    ``step_completed``: the consumer has those events already.
    """
    head = yield from open_event_stream(request, ctx)
    decoder = SSEDecoder()
    only_steps = call.only_steps
    raise_failures = call.raise_failures
    feed = decoder.feed
    while True:
        try:
            chunk: bytes = yield READ_STREAM
        except APITimeoutError as error:
            if error.execution_id is None:
                error.execution_id = cursor.execution_id  # the run to look up or resume
            raise
        except APIConnectionError as error:
            raise _interrupted(cursor, head, f"the connection failed: {error}") from error
        try:
            frames = feed(chunk) if chunk else decoder.end()
        except EventStreamDecodeError as error:
            error.request_id = head.request_id
            raise
        for frame in frames:
            event = parse_event(frame.event, frame.data, request_id=head.request_id)
            if event is None:
                continue
            if skip is not None:
                if skip > 0 and isinstance(event, StepCompleted):
                    skip -= 1
                    continue
                if skip > 0 or isinstance(event, RunStarted):
                    continue
                skip = None
            if isinstance(event, StepCompleted):
                cursor.step_completed(event)
                if resumed is not None:
                    resumed.step_boundary()
                yield Emit(event)
                continue
            if isinstance(event, StepStarted):
                cursor.step_started(event)
            elif isinstance(event, RunStarted):
                cursor.learn_execution_id(event.execution_id)
            elif isinstance(event, StepPaused):
                cursor.step_paused(event)
                if resumed is not None:
                    resumed.step_boundary()
                yield CloseStream()
                if not only_steps:
                    yield Emit(event)
                return True
            elif isinstance(event, ToolCallsRequired):
                if resumed is not None:
                    resumed.step_boundary()
                yield CloseStream()
                yield from _tool_pause(call, cursor, event)
                return True
            elif isinstance(event, FlowCompleted):
                cursor.learn_execution_id(event.execution_id)
                yield CloseStream()
                if not only_steps:
                    yield Emit(event)
                return False
            elif isinstance(event, StepFailed):
                yield CloseStream()
                if raise_failures:
                    raise step_failure(
                        event, execution_id=cursor.execution_id, request_id=head.request_id
                    )
                yield Emit(event)
                return False
            if only_steps:
                continue
            if resumed is not None:
                if resumed.is_repeat(event):
                    continue
                if not isinstance(event, RunStarted):
                    resumed.delivered(event)
            yield Emit(event)
        if not chunk:
            raise _interrupted(cursor, head, "it ended before the run paused or finished")


def _decode(decoder: SSEDecoder, chunk: bytes, head: StreamHead) -> list[ServerSentEvent]:
    """The frames ``chunk`` completes (all pending ones at the end, ``b""``)."""
    try:
        return decoder.feed(chunk) if chunk else decoder.end()
    except EventStreamDecodeError as error:
        error.request_id = head.request_id
        raise


def _tool_pause(call: StepCall, cursor: StepCursor, event: ToolCallsRequired) -> Steps[None]:
    """Answer a tool pause: with the handler (auto), or by handing the event to the caller."""
    cursor.tool_pause(event)
    handler = call.tool_handler
    if handler is not None:
        check_tool_round_limit(cursor.tool_rounds, call.max_tool_rounds, event.execution_id)
        cursor.tool_rounds += 1
        results = yield from call_user(handler, event.tool_calls)
        cursor.stage_tool_results(event, results)
        return
    if call.raise_failures:
        raise FlowExecutionError(
            f"The flow paused for tool calls at step {event.step_id!r}, but {call.entry} was "
            "called without tool_handler. Pass tool_handler= to answer them automatically, or "
            "use events() and resume the ToolCallsRequired event yourself.",
            code="TOOL_HANDLER_REQUIRED",
            execution_id=event.execution_id,
        )
    event._stage_results = lambda results: cursor.stage_tool_results(event, results)
    asynchronous = yield from is_async()
    event._async_client = asynchronous
    yield Emit(event)
    event._stage_results = _too_late
    if cursor.tool_messages is None:
        resume = "await event.resume(results)" if asynchronous else "resume_sync(results)"
        raise FlowExecutionError(
            f"The flow is paused for tool calls at step {event.step_id!r}: call {resume} on the "
            "ToolCallsRequired event before asking for the next event (or pass tool_handler=).",
            code="TOOL_RESULTS_REQUIRED",
            execution_id=event.execution_id,
        )


def _too_late(results: ToolResults) -> None:
    raise RuntimeError(
        "resume() must be called before asking the stream for its next event; "
        "this tool pause is no longer current."
    )


def step_failure(
    event: StepFailed, *, execution_id: str | None, request_id: str | None
) -> FlowExecutionError:
    """The error ``steps()`` raises for a ``step_error`` event: code and message from the event."""
    detail = _error_detail(event.error)
    code = detail.code if detail is not None else None
    message = (detail.message if detail is not None else None) or code or "no error details"
    name = repr(event.step_id) + (f" ({event.name})" if event.name else "")
    return FlowExecutionError(
        f"Step {name} failed: {message}",
        code=code,
        execution_id=execution_id,
        request_id=request_id,
        response_body=event.error,
    )


def _error_detail(error: Mapping[str, Any] | None) -> ErrorDetail | None:
    from pydantic import ValidationError

    if not error:
        return None
    try:
        return ErrorDetail.model_validate(error)
    except ValidationError:
        return None


def _interrupted(cursor: StepCursor, head: StreamHead, why: str) -> StreamInterruptedError:
    return StreamInterruptedError(
        f"The step stream was interrupted: {why}. Run "
        f"{cursor.execution_id or '(id unknown)'} can continue from step index {cursor.step_index}.",
        execution_id=cursor.execution_id,
        step_index=cursor.step_index,
        accumulated_outputs=dict(cursor.accumulated_outputs),
        request_id=head.request_id,
    )


def live_trace_protocol(
    request: HttpRequest, ctx: RequestContext, *, execution_id: str | None = None
) -> Steps[None]:
    """Emit every event of a run's live trace stream until its terminal event (no cursor).

    The stream is complete only once ``flow_completed`` or ``step_error`` has arrived; a stream
    that ends or breaks before that raises :class:`StreamInterruptedError`, as ``events()`` does.
    """
    head = yield from open_event_stream(request, ctx)
    decoder = SSEDecoder()
    while True:
        try:
            chunk = yield from read_stream()
        except APIConnectionError as error:
            if isinstance(error, APITimeoutError):
                error.execution_id = error.execution_id or execution_id
                raise
            raise _trace_interrupted(
                execution_id, head, f"the connection failed: {error}"
            ) from error
        for frame in _decode(decoder, chunk, head):
            event = parse_event(frame.event, frame.data, request_id=head.request_id)
            if event is None:
                continue
            yield Emit(event)
            if isinstance(event, (FlowCompleted, StepFailed)):
                yield CloseStream()
                return
        if not chunk:
            raise _trace_interrupted(execution_id, head, "it ended before the run finished")


def _trace_interrupted(
    execution_id: str | None, head: StreamHead, why: str
) -> StreamInterruptedError:
    return StreamInterruptedError(
        f"The live trace of run {execution_id or '(id unknown)'} was interrupted: {why}. "
        "Open live_trace() again to read it from the start.",
        execution_id=execution_id,
        request_id=head.request_id,
    )
