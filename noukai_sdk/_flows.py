"""Flows: ``Flow``/``AsyncFlow``, the public shells that build a call and pick a driver.

The protocols they drive live in :mod:`noukai_sdk._core.execute` and
:mod:`noukai_sdk._core.step_protocol`; ``Flow`` runs them with blocking I/O, ``AsyncFlow`` with
asyncio. The keyword options are named once, in :mod:`noukai_sdk._core.options`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, cast, overload

from noukai_sdk._core.batch import (
    DEFAULT_BATCH_CONCURRENCY,
    DEFAULT_BATCH_MAX_ATTEMPTS,
    BatchItem,
    BatchMode,
    BatchResult,
)
from noukai_sdk._core.effects import Steps
from noukai_sdk._core.execute import (
    AsyncToolHandler,
    ExecuteCall,
    ToolHandler,
    execute_protocol,
    replayed_outcome,
    resumable,
)
from noukai_sdk._core.jobs import submit_protocol
from noukai_sdk._core.link import AsyncLink, ClientLink, SyncLink
from noukai_sdk._core.options import (
    EventOptions,
    ExecuteOptions,
    JobOptions,
    StepOptions,
    StreamOptions,
    check_options,
)
from noukai_sdk._core.paths import FlowAddress, Version
from noukai_sdk._core.results import ExecuteOutcome, ExecuteResult, JobAccepted, PausedResult
from noukai_sdk._core.scope import (
    ReplayCall,
    ReplayedJob,
    Scope,
    active_scope,
    resolve_session_id,
)
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
    from typing_extensions import Unpack

    from noukai_sdk._batch import BatchPlan, ItemCallback, ProgressCallback
    from noukai_sdk._core.events import StepCompleted, StreamEvent

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])
OutT = TypeVar("OutT")
StepsT = TypeVar("StepsT")
EventsT = TypeVar("EventsT")
TextT = TypeVar("TextT")
BatchT = TypeVar("BatchT")
ItemsT = TypeVar("ItemsT")
ObjectT = TypeVar("ObjectT")


class _FlowCore(Generic[HandlerT, StepsT, EventsT, TextT, BatchT, ItemsT]):
    """State, call building and the entry points shared by ``Flow`` and ``AsyncFlow``.

    ``HandlerT`` is the tool-handler type the client kind accepts; ``StepsT``/``EventsT``/``TextT``
    are the iterator types ``steps()``/``events()``/``stream_text()`` return, ``BatchT``/``ItemsT``
    what ``map()`` returns (blocking or asyncio).
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

    def steps(self, message: str | None = None, **options: Unpack[StepOptions[HandlerT]]) -> StepsT:
        """Run the flow step by step, yielding each ``StepCompleted`` (``POST …/step``).

        A failed step raises ``FlowExecutionError``; a stream cut short raises
        ``StreamInterruptedError`` (unless ``auto_resume`` reconnects it). Close the stream (or
        use ``with``) to stop early."""
        self._check(options, "steps", StepOptions)
        protocol = self._step_protocol("steps", message, options, only_steps=True)
        return cast(StepsT, self._open_stream(protocol))

    def events(
        self, message: str | None = None, **options: Unpack[EventOptions[HandlerT]]
    ) -> EventsT:
        """Run the flow step by step, yielding every typed event (``POST …/step``).

        ``run_remaining=True`` streams all remaining steps in one connection; ``auto_resume=N``
        reconnects a stream cut after the run started, at its cursor, up to N times."""
        self._check(options, "events", EventOptions)
        run_remaining = options.pop("run_remaining", False)
        protocol = self._step_protocol("events", message, options, run_remaining=run_remaining)
        return cast(EventsT, self._open_stream(protocol))

    def stream_text(
        self, message: str | None = None, **options: Unpack[StreamOptions[HandlerT]]
    ) -> TextT:
        """Run the flow and iterate its text as it arrives (``str`` deltas), in ``with``.

        Streams all steps in one connection (``run_remaining``); ``step=`` keeps one step's
        text. After the loop: ``text``, ``usage``, ``execution_id`` and ``final_result()``. A failed
        step raises ``FlowExecutionError``; tool pauses go to ``tool_handler``."""
        step, protocol, session = self._helper_protocol("stream_text", message, options)
        return cast(TextT, self._open_text_stream(protocol, step, session))

    def _helper_protocol(
        self, method: str, message: str | None, options: StreamOptions[Any]
    ) -> tuple[str | None, Steps[None], str | None]:
        """The chosen step, the whole-run events protocol behind a text or object stream, and
        its session id."""
        self._check(options, method, StreamOptions)
        step = options.pop("step", None)
        protocol = self._step_protocol(method, message, options, run_remaining=True)
        return step, protocol, self._session_id(options.get("session_id"))

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

    def _check(self, options: Mapping[str, object], method: str, accepted: type[Any]) -> None:
        check_options(f"{type(self).__name__}.{method}()", options, accepted)

    def _session_id(self, session_id: str | None) -> str | None:
        """The session a call runs in: per-call, else the active scope's, else the client's."""
        return resolve_session_id(session_id, self._link.session_id)

    def _step_protocol(
        self,
        method: str,
        message: str | None,
        options: StepOptions[Any],
        *,
        only_steps: bool = False,
        run_remaining: bool = False,
    ) -> Steps[None]:
        """The protocol behind ``method`` (the recording in a replay scope), as it observes it."""
        from noukai_sdk._core.step_protocol import StepCall, step_protocol

        call = StepCall.from_args(
            self._address,
            client_session_id=self._link.session_id,
            only_steps=only_steps,
            entry=f"{method}()",
            message=message,
            run_remaining=run_remaining,
            **options,
        )
        self._check_handler(call.tool_handler)
        scope = _replay_scope()
        if scope is not None:
            from noukai_sdk._replay import replay_events

            replay_call = self._replay_call(options.get("session_id"))
            protocol = replay_events(scope, replay_call, only_steps=only_steps)
        else:
            protocol = step_protocol(call, self._link.context)
        return self._observe(method, options.get("version"), protocol)

    def _execute_protocol(
        self,
        message: str | None,
        tool_handler: HandlerT | None,
        output_type: Any,
        options: ExecuteOptions,
    ) -> Steps[ExecuteOutcome]:
        """The protocol behind ``execute()``: the recording in a replay scope, else the run
        (a pause bound to resume through this client)."""
        self._check(options, "execute", ExecuteOptions)
        self._check_handler(tool_handler)
        call = ExecuteCall.from_args(
            self._address,
            client_session_id=self._link.session_id,
            message=message,
            tool_handler=tool_handler,
            output_type=output_type,
            **options,
        )
        scope = _replay_scope()
        if scope is not None:
            from noukai_sdk._replay import replay_execute

            replay_call = self._replay_call(options.get("session_id"))
            return replayed_outcome(call, replay_execute(scope, replay_call))
        return resumable(call, self._link, execute_protocol(call, self._link.context))

    def _submit_protocol(
        self, message: str | None, options: JobOptions
    ) -> Steps[JobAccepted | ReplayedJob]:
        """The protocol behind ``execute_async()``: the server's answer, or the recording."""
        self._check(options, "execute_async", JobOptions)
        call = ExecuteCall.from_args(
            self._address, client_session_id=self._link.session_id, message=message, **options
        )
        scope = _replay_scope()
        if scope is not None:
            from noukai_sdk._replay import replay_job

            return replay_job(scope, self._replay_call(options.get("session_id")))
        return submit_protocol(call, self._address, self._link.context)

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
    ) -> BatchT: ...

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
    ) -> ItemsT: ...

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
    ) -> BatchT | ItemsT:
        """Run the flow over many inputs, at most ``concurrency`` at a time (see the README).

        An input is a message or a dict of :meth:`execute` keyword arguments; ``execute_kwargs``
        apply to every item. ``mode="jobs"`` queues each item server-side and polls it. On the
        blocking client it returns the ``BatchResult`` (or, with ``as_completed=True``, an
        iterator of the items as they finish); on the asyncio client await the result, or
        ``async for`` the items.
        """
        from noukai_sdk._batch import new_plan

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
        return self._run_plan(plan, jobs=mode == "jobs", as_completed=as_completed)

    def _run_plan(self, plan: BatchPlan, *, jobs: bool, as_completed: bool) -> BatchT | ItemsT:
        """The batch ``plan`` on this client kind: its result, or its items as they finish."""
        raise NotImplementedError


def _replay_scope() -> Scope | None:
    """The active scope when it is in replay mode (then no flow endpoint is called)."""
    scope = active_scope()
    return scope if scope is not None and scope.is_replay else None


if TYPE_CHECKING:
    _SyncFlowBase = _FlowCore[
        ToolHandler,
        EventStream[StepCompleted],
        EventStream[StreamEvent],
        TextStream,
        BatchResult[Any],
        Iterator[BatchItem[Any]],
    ]
    _AsyncFlowBase = _FlowCore[
        AsyncToolHandler,
        AsyncEventStream[StepCompleted],
        AsyncEventStream[StreamEvent],
        AsyncTextStream,
        Awaitable[BatchResult[Any]],
        AsyncIterator[BatchItem[Any]],
    ]
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
        tool_handler: ToolHandler | None = None,
        output_type: Any = None,
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult[Any] | PausedResult[Any]:
        """Run the flow and wait for its result (``POST …/execute``).

        With ``tool_handler`` every tool pause is answered automatically (at most
        ``max_tool_rounds`` times) and the final :class:`ExecuteResult` is returned; without it a
        pause is returned as a :class:`PausedResult` to answer with ``resume_sync()``.
        With ``output_type`` a completed output is validated into ``result.parsed`` (a mismatch
        raises ``OutputValidationError``); ``usage=True`` fetches the run trace once after a
        completed run to fill ``result.usage``.
        """
        protocol = self._execute_protocol(message, tool_handler, output_type, options)
        return self._link.run(protocol)

    def execute_async(self, message: str | None = None, **options: Unpack[JobOptions]) -> Job:
        """Queue the flow server-side (``POST …/jobs``) and return a :class:`Job` to poll or wait on."""
        answer = self._link.run(self._submit_protocol(message, options))
        return Job.submitted(self._link, self._address, answer)

    def stream_object(
        self,
        output_type: type[ObjectT],
        message: str | None = None,
        **options: Unpack[StreamOptions[ToolHandler]],
    ) -> ObjectStream[ObjectT]:
        """Run the flow and iterate the JSON object its text spells, as partial snapshots.

        Each snapshot (a plain JSON value) extends the one before; ``final_object()`` is the
        object validated as ``output_type``. Same options as :meth:`stream_text`."""
        step, protocol, session = self._helper_protocol("stream_object", message, options)
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

    def _open_stream(self, protocol: Steps[None]) -> EventStream[Any]:
        return EventStream(protocol, self._link.io)

    def _open_text_stream(
        self, protocol: Steps[None], step: str | None, session_id: str | None
    ) -> TextStream:
        return TextStream(protocol, self._link.io, step=step, session_id=session_id)

    def _run_plan(
        self, plan: BatchPlan, *, jobs: bool, as_completed: bool
    ) -> BatchResult[Any] | Iterator[BatchItem[Any]]:
        from noukai_sdk._batch import iterate_batch_blocking, run_batch_blocking

        call = self._run_job if jobs else self._run_execute
        return (
            iterate_batch_blocking(plan, call) if as_completed else run_batch_blocking(plan, call)
        )

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
        tool_handler: AsyncToolHandler | None = None,
        output_type: Any = None,
        **options: Unpack[ExecuteOptions],
    ) -> ExecuteResult[Any] | PausedResult[Any]:
        """Run the flow and wait for its result; see :meth:`Flow.execute`. Handlers may be async."""
        protocol = self._execute_protocol(message, tool_handler, output_type, options)
        return await self._link.run(protocol)

    async def execute_async(
        self, message: str | None = None, **options: Unpack[JobOptions]
    ) -> AsyncJob:
        """Queue the flow server-side and return an :class:`AsyncJob`; see :meth:`Flow.execute_async`."""
        answer = await self._link.run(self._submit_protocol(message, options))
        return AsyncJob.submitted(self._link, self._address, answer)

    def stream_object(
        self,
        output_type: type[ObjectT],
        message: str | None = None,
        **options: Unpack[StreamOptions[AsyncToolHandler]],
    ) -> AsyncObjectStream[ObjectT]:
        """Run the flow and iterate the JSON object its text spells, as partial snapshots.

        Each snapshot (a plain JSON value) extends the one before; ``await final_object()`` is the
        object validated as ``output_type``. Same options as :meth:`stream_text`."""
        step, protocol, session = self._helper_protocol("stream_object", message, options)
        return AsyncObjectStream(
            protocol, self._link.io, output_type=output_type, step=step, session_id=session
        )

    def run(self, execution_id: str) -> AsyncRun:
        """The run ``execution_id`` of this flow, for its traces (no request is made)."""
        return AsyncRun(self._link, self._address, execution_id)

    def job(self, execution_id: str) -> AsyncJob:
        """The job ``execution_id`` of this flow, to poll or wait on; see :meth:`Flow.job`."""
        return AsyncJob.by_id(self._link, self._address, execution_id)

    def _open_stream(self, protocol: Steps[None]) -> AsyncEventStream[Any]:
        return AsyncEventStream(protocol, self._link.io)

    def _open_text_stream(
        self, protocol: Steps[None], step: str | None, session_id: str | None
    ) -> AsyncTextStream:
        return AsyncTextStream(protocol, self._link.io, step=step, session_id=session_id)

    def _run_plan(
        self, plan: BatchPlan, *, jobs: bool, as_completed: bool
    ) -> Awaitable[BatchResult[Any]] | AsyncIterator[BatchItem[Any]]:
        from noukai_sdk._batch import collect_batch, iterate_batch_with_sinks

        call = self._run_job if jobs else self._run_execute
        return iterate_batch_with_sinks(plan, call) if as_completed else collect_batch(plan, call)

    async def _run_execute(self, arguments: dict[str, Any]) -> Any:
        return cast(Any, await self.execute(**arguments))

    async def _run_job(self, arguments: dict[str, Any]) -> Any:
        from noukai_sdk._batch import split_job_arguments

        submit, wait = split_job_arguments(arguments)
        job = await self.execute_async(**submit)
        return await job.wait(**wait)
