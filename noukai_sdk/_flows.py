"""Flows: ``Flow``/``AsyncFlow``, the public shells that build a call and pick a driver.

The protocols they drive live in :mod:`noukai_sdk._core.execute` and
:mod:`noukai_sdk._core.step_protocol`; ``Flow`` runs them with blocking I/O, ``AsyncFlow`` with
asyncio.
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, cast, overload

from noukai_sdk._core.batch import (
    DEFAULT_BATCH_CONCURRENCY,
    DEFAULT_BATCH_MAX_ATTEMPTS,
    BatchItem,
    BatchMode,
    BatchResult,
)
from noukai_sdk._core.constants import DEFAULT_MAX_TOOL_ROUNDS
from noukai_sdk._core.effects import Steps
from noukai_sdk._core.execute import (
    AsyncToolHandler,
    ExecuteCall,
    MessageInput,
    ToolHandler,
    execute_protocol,
    public_arguments,
    replayed_outcome,
    resume_protocol,
)
from noukai_sdk._core.http_types import Timeout
from noukai_sdk._core.jobs import submit_protocol
from noukai_sdk._core.link import AsyncLink, ClientLink, SyncLink
from noukai_sdk._core.paths import FlowAddress, Version
from noukai_sdk._core.results import (
    ExecuteOutcome,
    ExecuteResult,
    PausedResult,
    ResumeBinding,
    ToolResults,
)
from noukai_sdk._core.scope import ReplayCall, Scope, active_scope
from noukai_sdk._core.tool_calls import reject_async_handler_on_sync_client
from noukai_sdk._jobs import AsyncJob, Job
from noukai_sdk._runs import AsyncRun, Run
from noukai_sdk._streams import (
    AsyncEventStream,
    AsyncObjectStream,
    AsyncTextStream,
    EventStream,
    ObjectStream,
    TextStream,
)

if TYPE_CHECKING:
    from typing_extensions import TypedDict, Unpack

    from noukai_sdk._batch import ItemCallback, ProgressCallback
    from noukai_sdk._core.events import StepCompleted, StreamEvent
    from noukai_sdk._core.step_protocol import StepCall

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])
OutT = TypeVar("OutT")
StepsT = TypeVar("StepsT")
EventsT = TypeVar("EventsT")
TextT = TypeVar("TextT")
ObjectT = TypeVar("ObjectT")


class _FlowCore(Generic[HandlerT, StepsT, EventsT, TextT]):
    """State, call building and the streaming entry points shared by ``Flow`` and ``AsyncFlow``.

    ``HandlerT`` is the tool-handler type the client kind accepts; ``StepsT``/``EventsT``/``TextT``
    are the iterator types ``steps()``/``events()``/``stream_text()`` return (blocking or asyncio).
    """

    _sync_client: ClassVar[bool]

    __slots__ = ("_address", "_link")

    def __init__(self, link: ClientLink, address: FlowAddress) -> None:
        self._link = link
        self._address = address

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self._address)!r})"

    @property
    def org(self) -> str:
        return self._address.org

    @property
    def project(self) -> str:
        return self._address.project

    @property
    def slug(self) -> str:
        return self._address.slug

    def steps(
        self,
        message: str | None = None,
        *,
        parameters: Mapping[str, Any] | None = None,
        attachments: Sequence[Any] | None = None,
        input_overrides: Mapping[str, Any] | None = None,
        block_overrides: Mapping[str, Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        tool_handler: HandlerT | None = None,
        max_tool_rounds: int | None = DEFAULT_MAX_TOOL_ROUNDS,
        trace: bool = False,
        version: Version = None,
        timeout: Timeout = None,
        session_id: str | None = None,
        auto_resume: int = 0,
    ) -> StepsT:
        """Run the flow step by step, yielding each ``StepCompleted`` (``POST …/step``).

        A failed step raises ``FlowExecutionError``; a stream cut short raises
        ``StreamInterruptedError`` (unless ``auto_resume`` reconnects it). Close the stream (or
        use ``with``) to stop early."""
        arguments = public_arguments(locals())
        from noukai_sdk._core.step_protocol import StepCall

        call = StepCall.from_args(
            self._address,
            client_session_id=self._link.session_id,
            only_steps=True,
            entry="steps()",
            **arguments,
        )
        protocol = self._step_protocol(call, session_id)
        return cast(StepsT, self._open_stream(self._observe("steps", version, protocol)))

    def events(
        self,
        message: str | None = None,
        *,
        parameters: Mapping[str, Any] | None = None,
        attachments: Sequence[Any] | None = None,
        input_overrides: Mapping[str, Any] | None = None,
        block_overrides: Mapping[str, Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        tool_handler: HandlerT | None = None,
        max_tool_rounds: int | None = DEFAULT_MAX_TOOL_ROUNDS,
        trace: bool = False,
        run_remaining: bool = False,
        version: Version = None,
        timeout: Timeout = None,
        session_id: str | None = None,
        auto_resume: int = 0,
    ) -> EventsT:
        """Run the flow step by step, yielding every typed event (``POST …/step``).

        ``run_remaining=True`` streams all remaining steps in one connection; ``auto_resume=N``
        reconnects a stream cut after the run started, at its cursor, up to N times."""
        arguments = public_arguments(locals())
        from noukai_sdk._core.step_protocol import StepCall

        call = StepCall.from_args(
            self._address,
            client_session_id=self._link.session_id,
            only_steps=False,
            entry="events()",
            **arguments,
        )
        protocol = self._step_protocol(call, session_id)
        return cast(EventsT, self._open_stream(self._observe("events", version, protocol)))

    def stream_text(
        self,
        message: str | None = None,
        *,
        step: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        attachments: Sequence[Any] | None = None,
        input_overrides: Mapping[str, Any] | None = None,
        block_overrides: Mapping[str, Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        tool_handler: HandlerT | None = None,
        max_tool_rounds: int | None = DEFAULT_MAX_TOOL_ROUNDS,
        trace: bool = False,
        version: Version = None,
        timeout: Timeout = None,
        session_id: str | None = None,
        auto_resume: int = 0,
    ) -> TextT:
        """Run the flow and iterate its text as it arrives (``str`` deltas), in ``with``.

        Streams all steps in one connection (``run_remaining``); ``step=`` keeps one step's
        text. After the loop: ``text``, ``usage``, ``execution_id`` and ``final_result()``. A failed
        step raises ``FlowExecutionError``; tool pauses go to ``tool_handler``."""
        arguments = public_arguments(locals())
        protocol, session = self._helper_protocol("stream_text", arguments)
        return cast(TextT, self._open_text_stream(protocol, step, session))

    def _helper_protocol(
        self, method: str, arguments: dict[str, Any]
    ) -> tuple[Steps[None], str | None]:
        """The whole-run events protocol behind a text or object stream, and its session id."""
        from noukai_sdk._core.step_protocol import StepCall

        arguments.pop("step")
        arguments.pop("output_type", None)
        call = StepCall.from_args(
            self._address,
            client_session_id=self._link.session_id,
            only_steps=False,
            entry=f"{method}()",
            run_remaining=True,
            **arguments,
        )
        protocol = self._step_protocol(call, arguments["session_id"])
        return self._observe(method, arguments["version"], protocol), call.session_id

    def _open_stream(self, protocol: Steps[None]) -> object:
        """The public iterator over ``protocol`` for this client kind."""
        raise NotImplementedError

    def _open_text_stream(
        self, protocol: Steps[None], step: str | None, session_id: str | None
    ) -> object:
        """The public text stream over ``protocol`` for this client kind."""
        raise NotImplementedError

    def _observe(self, method: str, version: Version, protocol: Steps[None]) -> Steps[None]:
        """``protocol`` as the stream of ``method`` runs it; a traced flow wraps it in a span."""
        return protocol

    def _step_protocol(self, call: StepCall, session_id: str | None) -> Steps[None]:
        """The protocol behind ``steps()``/``events()``: the recording in a replay scope."""
        self._check_handler(call.tool_handler)
        scope = _replay_scope()
        if scope is not None:
            from noukai_sdk._replay import replay_events

            return replay_events(scope, self._replay_call(session_id), only_steps=call.only_steps)
        from noukai_sdk._core.step_protocol import step_protocol

        return step_protocol(call, self._link.context)

    def _check_handler(self, handler: Callable[..., Any] | None) -> None:
        """The blocking client refuses an ``async def`` handler before any request."""
        if self._sync_client:
            reject_async_handler_on_sync_client(handler)

    def _replay_call(self, session_id: str | None) -> ReplayCall:
        return ReplayCall(
            slug=self._address.slug,
            session_id=session_id,
            link=self._link,
        )


def _replay_scope() -> Scope | None:
    """The active scope when it is in replay mode (then no flow endpoint is called)."""
    scope = active_scope()
    return scope if scope is not None and scope.is_replay else None


if TYPE_CHECKING:
    _SyncFlowBase = _FlowCore[
        ToolHandler, EventStream[StepCompleted], EventStream[StreamEvent], TextStream
    ]
    _AsyncFlowBase = _FlowCore[
        AsyncToolHandler,
        AsyncEventStream[StepCompleted],
        AsyncEventStream[StreamEvent],
        AsyncTextStream,
    ]

    class ExecuteOptions(TypedDict, total=False):
        """The keyword arguments of ``execute()`` that do not change its return type."""

        messages: Sequence[MessageInput] | None
        parameters: Mapping[str, Any] | None
        block_overrides: Mapping[str, Any] | None
        attachments: Sequence[Any] | None
        tools: Sequence[Any] | None
        tool_choice: Any
        max_tool_rounds: int | None
        trace: bool
        version: Version
        timeout: Timeout
        session_id: str | None
        usage: bool
else:  # the event classes are imported lazily; at run time the bases need no parameters
    _SyncFlowBase = _AsyncFlowBase = _FlowCore


class Flow(_SyncFlowBase):
    """A flow bound to a :class:`~noukai_sdk.Noukai` client (blocking calls)."""

    __slots__ = ()
    _sync_client = True

    _link: SyncLink

    @overload
    def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: ToolHandler,
        output_type: type[OutT],
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult[OutT]: ...

    @overload
    def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: ToolHandler,
        output_type: None = None,
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult: ...

    @overload
    def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: None = None,
        output_type: type[OutT],
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult[OutT] | PausedResult[OutT]: ...

    @overload
    def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: None = None,
        output_type: None = None,
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult | PausedResult: ...

    @overload
    def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: ToolHandler,
        output_type: object,
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult[Any]: ...

    @overload
    def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: None = None,
        output_type: object,
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult[Any] | PausedResult[Any]: ...

    def execute(
        self,
        message: str | None = None,
        *,
        messages: Sequence[MessageInput] | None = None,
        parameters: Mapping[str, Any] | None = None,
        block_overrides: Mapping[str, Any] | None = None,
        attachments: Sequence[Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        tool_handler: ToolHandler | None = None,
        max_tool_rounds: int | None = DEFAULT_MAX_TOOL_ROUNDS,
        trace: bool = False,
        version: Version = None,
        timeout: Timeout = None,
        session_id: str | None = None,
        output_type: Any = None,
        usage: bool = False,
    ) -> ExecuteResult[Any] | PausedResult[Any]:
        """Run the flow and wait for its result (``POST …/execute``).

        With ``tool_handler`` every tool pause is answered automatically (at most
        ``max_tool_rounds`` times) and the final :class:`ExecuteResult` is returned; without it a
        pause is returned as a :class:`PausedResult` to answer with ``resume_sync()``.
        With ``output_type`` a completed output is validated into ``result.parsed`` (a mismatch
        raises ``OutputValidationError``); ``usage=True`` fetches the run trace once after a
        completed run to fill ``result.usage``.
        """
        arguments = public_arguments(locals())
        self._check_handler(tool_handler)
        call = ExecuteCall.from_args(
            self._address,
            client_session_id=self._link.session_id,
            **arguments,
        )
        scope = _replay_scope()
        if scope is not None:
            from noukai_sdk._replay import replay_execute

            replayed = replayed_outcome(call, replay_execute(scope, self._replay_call(session_id)))
            return self._link.run(replayed)
        outcome = self._link.run(execute_protocol(call, self._link.context))
        return self._bind(outcome, call)

    def execute_async(
        self,
        message: str | None = None,
        *,
        parameters: Mapping[str, Any] | None = None,
        block_overrides: Mapping[str, Any] | None = None,
        trace: bool = False,
        version: Version = None,
        timeout: Timeout = None,
        session_id: str | None = None,
    ) -> Job:
        """Queue the flow server-side (``POST …/jobs``) and return a :class:`Job` to poll or wait on."""
        arguments = public_arguments(locals())
        call = ExecuteCall.from_args(
            self._address,
            client_session_id=self._link.session_id,
            **arguments,
        )
        scope = _replay_scope()
        if scope is not None:
            from noukai_sdk._replay import replay_job

            replayed = self._link.run(replay_job(scope, self._replay_call(session_id)))
            return Job.replayed(self._link, self._address, replayed)
        accepted = self._link.run(submit_protocol(call, self._address, self._link.context))
        return Job(self._link, self._address, accepted)

    def _open_stream(self, protocol: Steps[None]) -> EventStream[Any]:
        return EventStream(protocol, self._link.io)

    def _open_text_stream(
        self, protocol: Steps[None], step: str | None, session_id: str | None
    ) -> TextStream:
        return TextStream(protocol, self._link.io, step=step, session_id=session_id)

    def stream_object(
        self,
        output_type: type[ObjectT],
        message: str | None = None,
        *,
        step: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        attachments: Sequence[Any] | None = None,
        input_overrides: Mapping[str, Any] | None = None,
        block_overrides: Mapping[str, Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        tool_handler: ToolHandler | None = None,
        max_tool_rounds: int | None = DEFAULT_MAX_TOOL_ROUNDS,
        trace: bool = False,
        version: Version = None,
        timeout: Timeout = None,
        session_id: str | None = None,
        auto_resume: int = 0,
    ) -> ObjectStream[ObjectT]:
        """Run the flow and iterate the JSON object its text spells, as partial snapshots.

        Each snapshot (a plain JSON value) extends the one before; ``final_object()`` is the
        object validated as ``output_type``. Same options as :meth:`stream_text`."""
        arguments = public_arguments(locals())
        protocol, session = self._helper_protocol("stream_object", arguments)
        return ObjectStream(
            protocol, self._link.io, output_type=output_type, step=step, session_id=session
        )

    def run(self, execution_id: str) -> Run:
        """The run ``execution_id`` of this flow, for its traces (no request is made)."""
        return Run(self._link, self._address, execution_id)

    def job(self, execution_id: str) -> Job:
        """The job ``execution_id`` of this flow, submitted earlier (perhaps elsewhere), to poll
        or wait on (no request is made)."""
        return Job.by_id(self._link, self._address, execution_id)

    def _bind(self, outcome: ExecuteOutcome, call: ExecuteCall) -> ExecuteOutcome:
        if isinstance(outcome, PausedResult):
            outcome._binding = ResumeBinding(is_async=False, resume=self._resume_factory(call))
        return outcome

    def _resume_factory(self, call: ExecuteCall) -> Callable[[PausedResult, ToolResults], Any]:
        def resume(paused: PausedResult, tool_results: ToolResults) -> ExecuteOutcome:
            protocol = resume_protocol(call, paused, tool_results, self._link.context)
            return self._bind(self._link.run(protocol), call)

        return resume

    @overload
    def map(
        self,
        inputs: Iterable[str | Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        mode: BatchMode = "execute",
        max_attempts: int = DEFAULT_BATCH_MAX_ATTEMPTS,
        fail_fast: bool = False,
        as_completed: Literal[False] = False,
        on_progress: ProgressCallback | None = None,
        on_item: ItemCallback | None = None,
        keep_items: bool | None = None,
        output: str | Path | None = None,
        **execute_kwargs: Any,
    ) -> BatchResult[Any]: ...

    @overload
    def map(
        self,
        inputs: Iterable[str | Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        mode: BatchMode = "execute",
        max_attempts: int = DEFAULT_BATCH_MAX_ATTEMPTS,
        fail_fast: bool = False,
        as_completed: Literal[True],
        on_progress: ProgressCallback | None = None,
        on_item: ItemCallback | None = None,
        keep_items: bool | None = None,
        output: str | Path | None = None,
        **execute_kwargs: Any,
    ) -> Iterator[BatchItem[Any]]: ...

    def map(
        self,
        inputs: Iterable[str | Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        mode: BatchMode = "execute",
        max_attempts: int = DEFAULT_BATCH_MAX_ATTEMPTS,
        fail_fast: bool = False,
        as_completed: bool = False,
        on_progress: ProgressCallback | None = None,
        on_item: ItemCallback | None = None,
        keep_items: bool | None = None,
        output: str | Path | None = None,
        **execute_kwargs: Any,
    ) -> BatchResult[Any] | Iterator[BatchItem[Any]]:
        """Run the flow over many inputs, at most ``concurrency`` at a time (see the README).

        An input is a message or a dict of :meth:`execute` keyword arguments; ``execute_kwargs``
        apply to every item. ``mode="jobs"`` queues each item server-side and polls it.
        """
        from noukai_sdk._batch import iterate_batch_blocking, new_plan, run_batch_blocking

        plan = new_plan(
            inputs,
            common=execute_kwargs,
            concurrency=concurrency,
            mode=mode,
            max_attempts=max_attempts,
            fail_fast=fail_fast,
            on_progress=on_progress,
            on_item=on_item,
            keep_items=keep_items,
            output=output,
        )
        call = self._run_job if mode == "jobs" else self._run_execute
        if as_completed:
            return iterate_batch_blocking(plan, call)
        return run_batch_blocking(plan, call)

    def _run_execute(self, arguments: dict[str, Any]) -> Any:
        return cast(Any, self.execute(**arguments))

    def _run_job(self, arguments: dict[str, Any]) -> Any:
        from noukai_sdk._batch import split_job_arguments

        submit, wait = split_job_arguments(arguments)
        return self.execute_async(**submit).wait(**wait)


class AsyncFlow(_AsyncFlowBase):
    """A flow bound to an :class:`~noukai_sdk.AsyncNoukai` client (coroutines)."""

    __slots__ = ()
    _sync_client = False

    _link: AsyncLink

    @overload
    async def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: AsyncToolHandler,
        output_type: type[OutT],
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult[OutT]: ...

    @overload
    async def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: AsyncToolHandler,
        output_type: None = None,
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult: ...

    @overload
    async def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: None = None,
        output_type: type[OutT],
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult[OutT] | PausedResult[OutT]: ...

    @overload
    async def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: None = None,
        output_type: None = None,
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult | PausedResult: ...

    @overload
    async def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: AsyncToolHandler,
        output_type: object,
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult[Any]: ...

    @overload
    async def execute(
        self,
        message: str | None = None,
        *,
        tool_handler: None = None,
        output_type: object,
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult[Any] | PausedResult[Any]: ...

    async def execute(
        self,
        message: str | None = None,
        *,
        messages: Sequence[MessageInput] | None = None,
        parameters: Mapping[str, Any] | None = None,
        block_overrides: Mapping[str, Any] | None = None,
        attachments: Sequence[Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        tool_handler: AsyncToolHandler | None = None,
        max_tool_rounds: int | None = DEFAULT_MAX_TOOL_ROUNDS,
        trace: bool = False,
        version: Version = None,
        timeout: Timeout = None,
        session_id: str | None = None,
        output_type: Any = None,
        usage: bool = False,
    ) -> ExecuteResult[Any] | PausedResult[Any]:
        """Run the flow and wait for its result; see :meth:`Flow.execute`. Handlers may be async."""
        arguments = public_arguments(locals())
        self._check_handler(tool_handler)
        call = ExecuteCall.from_args(
            self._address,
            client_session_id=self._link.session_id,
            **arguments,
        )
        scope = _replay_scope()
        if scope is not None:
            from noukai_sdk._replay import replay_execute

            replayed = replayed_outcome(call, replay_execute(scope, self._replay_call(session_id)))
            return await self._link.run(replayed)
        protocol = execute_protocol(call, self._link.context)
        return self._bind(await self._link.run(protocol), call)

    async def execute_async(
        self,
        message: str | None = None,
        *,
        parameters: Mapping[str, Any] | None = None,
        block_overrides: Mapping[str, Any] | None = None,
        trace: bool = False,
        version: Version = None,
        timeout: Timeout = None,
        session_id: str | None = None,
    ) -> AsyncJob:
        """Queue the flow server-side and return an :class:`AsyncJob`; see :meth:`Flow.execute_async`."""
        arguments = public_arguments(locals())
        call = ExecuteCall.from_args(
            self._address,
            client_session_id=self._link.session_id,
            **arguments,
        )
        scope = _replay_scope()
        if scope is not None:
            from noukai_sdk._replay import replay_job

            replayed = await self._link.run(replay_job(scope, self._replay_call(session_id)))
            return AsyncJob.replayed(self._link, self._address, replayed)
        accepted = await self._link.run(submit_protocol(call, self._address, self._link.context))
        return AsyncJob(self._link, self._address, accepted)

    def _open_stream(self, protocol: Steps[None]) -> AsyncEventStream[Any]:
        return AsyncEventStream(protocol, self._link.io)

    def _open_text_stream(
        self, protocol: Steps[None], step: str | None, session_id: str | None
    ) -> AsyncTextStream:
        return AsyncTextStream(protocol, self._link.io, step=step, session_id=session_id)

    def stream_object(
        self,
        output_type: type[ObjectT],
        message: str | None = None,
        *,
        step: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        attachments: Sequence[Any] | None = None,
        input_overrides: Mapping[str, Any] | None = None,
        block_overrides: Mapping[str, Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        tool_handler: AsyncToolHandler | None = None,
        max_tool_rounds: int | None = DEFAULT_MAX_TOOL_ROUNDS,
        trace: bool = False,
        version: Version = None,
        timeout: Timeout = None,
        session_id: str | None = None,
        auto_resume: int = 0,
    ) -> AsyncObjectStream[ObjectT]:
        """Run the flow and iterate the JSON object its text spells, as partial snapshots.

        Each snapshot (a plain JSON value) extends the one before; ``await final_object()`` is the
        object validated as ``output_type``. Same options as :meth:`stream_text`."""
        arguments = public_arguments(locals())
        protocol, session = self._helper_protocol("stream_object", arguments)
        return AsyncObjectStream(
            protocol, self._link.io, output_type=output_type, step=step, session_id=session
        )

    def run(self, execution_id: str) -> AsyncRun:
        """The run ``execution_id`` of this flow, for its traces (no request is made)."""
        return AsyncRun(self._link, self._address, execution_id)

    def job(self, execution_id: str) -> AsyncJob:
        """The job ``execution_id`` of this flow, to poll or wait on; see :meth:`Flow.job`."""
        return AsyncJob.by_id(self._link, self._address, execution_id)

    def _bind(self, outcome: ExecuteOutcome, call: ExecuteCall) -> ExecuteOutcome:
        if isinstance(outcome, PausedResult):
            outcome._binding = ResumeBinding(is_async=True, resume=self._resume_factory(call))
        return outcome

    def _resume_factory(self, call: ExecuteCall) -> Callable[[PausedResult, ToolResults], Any]:
        async def resume(paused: PausedResult, tool_results: ToolResults) -> ExecuteOutcome:
            protocol = resume_protocol(call, paused, tool_results, self._link.context)
            return self._bind(await self._link.run(protocol), call)

        return resume

    @overload
    def map(
        self,
        inputs: Iterable[str | Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        mode: BatchMode = "execute",
        max_attempts: int = DEFAULT_BATCH_MAX_ATTEMPTS,
        fail_fast: bool = False,
        as_completed: Literal[False] = False,
        on_progress: ProgressCallback | None = None,
        on_item: ItemCallback | None = None,
        keep_items: bool | None = None,
        output: str | Path | None = None,
        **execute_kwargs: Any,
    ) -> Awaitable[BatchResult[Any]]: ...

    @overload
    def map(
        self,
        inputs: Iterable[str | Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        mode: BatchMode = "execute",
        max_attempts: int = DEFAULT_BATCH_MAX_ATTEMPTS,
        fail_fast: bool = False,
        as_completed: Literal[True],
        on_progress: ProgressCallback | None = None,
        on_item: ItemCallback | None = None,
        keep_items: bool | None = None,
        output: str | Path | None = None,
        **execute_kwargs: Any,
    ) -> AsyncIterator[BatchItem[Any]]: ...

    def map(
        self,
        inputs: Iterable[str | Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        mode: BatchMode = "execute",
        max_attempts: int = DEFAULT_BATCH_MAX_ATTEMPTS,
        fail_fast: bool = False,
        as_completed: bool = False,
        on_progress: ProgressCallback | None = None,
        on_item: ItemCallback | None = None,
        keep_items: bool | None = None,
        output: str | Path | None = None,
        **execute_kwargs: Any,
    ) -> Awaitable[BatchResult[Any]] | AsyncIterator[BatchItem[Any]]:
        """Run the flow over many inputs; see :meth:`Flow.map`. Await the result, or
        ``async for`` the items with ``as_completed=True``."""
        from noukai_sdk._batch import collect_batch, iterate_batch_with_sinks, new_plan

        plan = new_plan(
            inputs,
            common=execute_kwargs,
            concurrency=concurrency,
            mode=mode,
            max_attempts=max_attempts,
            fail_fast=fail_fast,
            on_progress=on_progress,
            on_item=on_item,
            keep_items=keep_items,
            output=output,
        )
        call = self._run_job if mode == "jobs" else self._run_execute
        if as_completed:
            return iterate_batch_with_sinks(plan, call)
        return collect_batch(plan, call)

    async def _run_execute(self, arguments: dict[str, Any]) -> Any:
        return cast(Any, await self.execute(**arguments))

    async def _run_job(self, arguments: dict[str, Any]) -> Any:
        from noukai_sdk._batch import split_job_arguments

        submit, wait = split_job_arguments(arguments)
        job = await self.execute_async(**submit)
        return await job.wait(**wait)
