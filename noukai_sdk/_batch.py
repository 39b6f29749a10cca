"""Running ``flow.map()``: bounded concurrency, 429-aware slowdown, fail-fast, progress, sinks.

The runner is written once, in asyncio: :func:`run_workers` runs ``concurrency`` workers that
pull items from the inputs (fewer calls in flight while the server answers 429), hands each item
over as it finishes and leaves no task behind when it is closed or cancelled; what to do after
each call is decided by :class:`~noukai_sdk._core.batch.BatchSchedule`. ``AsyncFlow.map`` awaits
the items' calls directly; ``Flow.map`` runs the same runner on a private event loop in a helper
thread, each blocking call in a pool of ``concurrency`` threads, and hands the items over through
a queue, so it works the same inside and outside a running event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping, Sized
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from noukai_sdk._core.batch import (
    WAIT_FOR_SLOT,
    BatchItem,
    BatchResult,
    BatchSchedule,
    check_batch_options,
)
from noukai_sdk._core.clock import current_clock
from noukai_sdk._core.errors import NoukaiError, RateLimitError
from noukai_sdk._core.scope import active_scope

ItemCall = Callable[[dict[str, Any]], Awaitable[Any]]
ProgressCallback = Callable[[int, "int | None", int], object]
ItemCallback = Callable[[BatchItem[Any]], object]


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """One ``map()`` call's inputs and options, checked by the flow before anything runs."""

    inputs: Iterable[Any]
    common: Mapping[str, Any]
    concurrency: int
    max_attempts: int
    fail_fast: bool
    on_progress: ProgressCallback | None
    on_item: ItemCallback | None
    keep_items: bool
    output: str | Path | None

    @property
    def total(self) -> int | None:
        return len(self.inputs) if isinstance(self.inputs, Sized) else None

    def schedule(self) -> BatchSchedule:
        """A fresh schedule for one run of this plan."""
        # Replay matches calls to recordings in order: concurrent calls would race for them.
        scope = active_scope()
        replaying = scope is not None and scope.is_replay
        return BatchSchedule(
            self.inputs,
            common=self.common,
            concurrency=1 if replaying else self.concurrency,
            max_attempts=self.max_attempts,
            fail_fast=self.fail_fast,
        )


Deliver = Callable[[BatchItem[Any]], Awaitable[None]]


async def run_workers(
    plan: BatchPlan, schedule: BatchSchedule, call: ItemCall, deliver: Deliver
) -> None:
    """Run every input through ``call`` with one worker per call slot; ``deliver`` each item.

    The workers pull from the one input iterator, so at most ``concurrency`` inputs are read
    ahead of the results, and a finished worker starts its next item at once (no scheduler in
    between). What they do after each call is :class:`BatchSchedule`'s decision. The first error
    a worker raises (``fail_fast``, a raising callback, a failing input iterator) stops the batch:
    no item starts after it, the other workers are cancelled, and it is raised here.
    """
    concurrency = schedule.limit.ceiling
    clock = current_clock()
    loop = asyncio.get_running_loop()
    slot_waiters: list[asyncio.Future[None]] = []

    async def admitted(item: BatchItem[Any]) -> None:
        while (delay := schedule.admit(item, clock.monotonic())) > 0:
            if delay != WAIT_FOR_SLOT:
                await clock.asleep(delay)
                continue
            waiter: asyncio.Future[None] = loop.create_future()
            slot_waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in slot_waiters:
                    slot_waiters.remove(waiter)

    def release() -> None:
        schedule.release()
        # Only a throttled batch has waiters; each asks again (the limit may have grown).
        for waiter in slot_waiters:
            if not waiter.done():
                waiter.set_result(None)
        slot_waiters.clear()

    async def run_item(item: BatchItem[Any], arguments: dict[str, Any]) -> None:
        while True:
            await admitted(item)
            try:
                result = await call(arguments)
            except RateLimitError as error:
                release()
                if schedule.rate_limited(item, error, clock.monotonic()):
                    continue
                return
            except Exception as error:  # recorded on the item: one bad input never stops a batch
                release()
                schedule.failed(item, error)
                return
            except BaseException:
                release()
                raise
            release()
            schedule.succeeded(item, result)
            return

    async def work() -> None:
        while (taken := schedule.next_item()) is not None:
            item, arguments = taken
            if arguments is not None:
                await run_item(item, arguments)
            if schedule.stops_batch(item) and item.error is not None:
                raise item.error
            await deliver(item)

    total = plan.total
    count = concurrency if total is None else max(1, min(concurrency, total))
    workers = [asyncio.ensure_future(work()) for _ in range(count)]
    try:
        done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
    finally:
        schedule.stop()
        await _cancel_all(workers)


async def _cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class _Sinks:
    """Where finished items go besides the result: the progress callback, ``on_item``, a JSONL file."""

    def __init__(self, plan: BatchPlan, *, keep_items: bool) -> None:
        self._plan = plan
        self._keep_items = keep_items
        self._total = plan.total
        self.result: BatchResult[Any] = BatchResult()
        self._file: IO[str] | None = None
        if plan.output is not None:
            self._file = Path(plan.output).open("a", encoding="utf-8")  # noqa: SIM115

    def add(self, item: BatchItem[Any]) -> None:
        result = self.result
        result.done += 1
        if item.error is not None:
            result.failed_count += 1
        if self._keep_items:
            result.items.append(item)
        if self._file is not None:
            self._file.write(json.dumps(jsonl_row(item), default=str) + "\n")
            self._file.flush()
        if self._plan.on_item is not None:
            self._plan.on_item(item)
        if self._plan.on_progress is not None:
            self._plan.on_progress(result.done, self._total, result.failed_count)

    def close(self) -> BatchResult[Any]:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.result.items.sort(key=lambda item: item.index)
        return self.result


def jsonl_row(item: BatchItem[Any]) -> dict[str, Any]:
    """One line of a batch's JSONL output: the input, and the result or the error."""
    result = item.result
    error = item.error
    return {
        "index": item.index,
        "input": item.input,
        "ok": error is None,
        "status": getattr(result, "status", None),
        "execution_id": getattr(result, "execution_id", None),
        "output": getattr(result, "output", getattr(result, "result", None)),
        "error": None
        if error is None
        else {
            "type": type(error).__name__,
            "message": str(error),
            "code": error.code if isinstance(error, NoukaiError) else None,
        },
    }


async def collect_batch(plan: BatchPlan, call: ItemCall) -> BatchResult[Any]:
    """Run the whole batch and return its items in input order."""
    sinks = _Sinks(plan, keep_items=plan.keep_items)

    async def deliver(item: BatchItem[Any]) -> None:
        sinks.add(item)

    try:
        await run_workers(plan, plan.schedule(), call, deliver)
    finally:
        result = sinks.close()
    return result


@dataclass(frozen=True, slots=True)
class _End:
    """The last thing the workers hand over: ``error`` when the batch failed."""

    error: Exception | None


async def iterate_batch_with_sinks(
    plan: BatchPlan, call: ItemCall
) -> AsyncIterator[BatchItem[Any]]:
    """Each item as it finishes, after the progress callback, ``on_item`` and the output file.

    Items pass through a queue of ``concurrency`` places, so workers wait for a slow consumer
    instead of piling items up. Closing the iterator (or cancelling its consumer) cancels the
    workers and waits for them.
    """
    # The caller holds each item as it comes; keeping them here too would grow with the batch.
    sinks = _Sinks(plan, keep_items=False)
    schedule = plan.schedule()
    handoff: asyncio.Queue[BatchItem[Any] | _End] = asyncio.Queue(maxsize=plan.concurrency)

    async def deliver(item: BatchItem[Any]) -> None:
        sinks.add(item)
        await handoff.put(item)
        # The consumer sees the item before this worker reads its next input, so one that stops
        # at an item (``break``, an error it raises) starts no more work than it had to.
        await asyncio.sleep(0)

    async def produce() -> None:
        try:
            await run_workers(plan, schedule, call, deliver)
        except Exception as error:  # raised in the consumer, after the items before it
            await handoff.put(_End(error))
        else:
            await handoff.put(_End(None))

    producer = asyncio.ensure_future(produce())
    try:
        while True:
            handed = await handoff.get()
            if isinstance(handed, _End):
                if handed.error is not None:
                    raise handed.error
                return
            yield handed
    finally:
        schedule.stop()  # before any worker runs again: none starts another item
        producer.cancel()
        await asyncio.gather(producer, return_exceptions=True)
        sinks.close()


# -- the blocking client ---------------------------------------------------------------------

_DONE = object()


def run_batch_blocking(
    plan: BatchPlan, blocking_call: Callable[[dict[str, Any]], Any]
) -> BatchResult[Any]:
    """The whole batch on the blocking client; returns its items in input order."""
    outcome: list[BatchResult[Any]] = []
    for _ in _blocking(plan, blocking_call, collect=outcome):
        pass
    return outcome[0]


def iterate_batch_blocking(
    plan: BatchPlan, blocking_call: Callable[[dict[str, Any]], Any]
) -> Iterator[BatchItem[Any]]:
    """The items of a batch on the blocking client, as they finish."""
    return _blocking(plan, blocking_call, collect=None)


def _blocking(
    plan: BatchPlan,
    blocking_call: Callable[[dict[str, Any]], Any],
    *,
    collect: list[BatchResult[Any]] | None,
) -> Iterator[BatchItem[Any]]:
    """Run the asyncio runner in a helper thread; hand its items over through a queue.

    Each call runs in the pool with a copy of the caller's context (scopes reach the calls).
    Leaving early, an error or Ctrl-C cancels the runner, waits for the calls in flight (a
    blocking request cannot be interrupted; each is bounded by its timeout) and joins every
    thread before returning.
    """
    caller_context = contextvars.copy_context()
    handoff: queue.Queue[object] = queue.Queue(maxsize=max(1, plan.concurrency))
    pool = ThreadPoolExecutor(max_workers=plan.concurrency, thread_name_prefix="noukai-map")
    started = threading.Event()
    loop_box: list[asyncio.AbstractEventLoop] = []
    main_box: list[asyncio.Task[None]] = []
    stop = threading.Event()

    async def call(arguments: dict[str, Any]) -> Any:
        context = caller_context.copy()
        return await asyncio.get_running_loop().run_in_executor(
            pool, lambda: context.run(blocking_call, arguments)
        )

    def put(value: object) -> None:
        while not stop.is_set():
            try:
                handoff.put(value, timeout=0.1)
                return
            except queue.Full:
                continue

    async def pump() -> None:
        try:
            if collect is not None:
                collect.append(await collect_batch(plan, call))
            else:
                async for item in iterate_batch_with_sinks(plan, call):
                    put(item)
        except BaseException as error:  # handed to the caller's thread, re-raised there
            put(error)
            return
        put(_DONE)

    def thread_main() -> None:
        async def main() -> None:
            loop_box.append(asyncio.get_running_loop())
            main_box.append(asyncio.ensure_future(pump()))
            started.set()
            with contextlib.suppress(asyncio.CancelledError):
                await main_box[0]

        try:
            caller_context.copy().run(asyncio.run, main())
        finally:
            started.set()

    worker = threading.Thread(target=thread_main, name="noukai-map-loop", daemon=True)
    worker.start()
    started.wait()
    try:
        while True:
            try:
                value = handoff.get(timeout=0.1)
            except queue.Empty:
                if not worker.is_alive():
                    return
                continue
            if value is _DONE:
                return
            if isinstance(value, BaseException):
                raise value
            assert isinstance(value, BatchItem)
            yield value
    finally:
        stop.set()
        if loop_box and main_box and not loop_box[0].is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may just have finished
                loop_box[0].call_soon_threadsafe(main_box[0].cancel)
        worker.join()
        pool.shutdown(wait=True, cancel_futures=True)


def new_plan(
    inputs: Iterable[Any],
    *,
    common: Mapping[str, Any],
    concurrency: int,
    mode: str,
    max_attempts: int,
    fail_fast: bool,
    on_progress: ProgressCallback | None,
    on_item: ItemCallback | None,
    keep_items: bool | None,
    output: str | Path | None,
) -> BatchPlan:
    """A checked plan from ``map()``'s arguments (bad options raise before anything runs).

    Without ``keep_items``, items are kept unless they are written to ``output``: a batch
    streamed to a file holds no more than ``concurrency`` items in memory.
    """
    check_batch_options(concurrency=concurrency, max_attempts=max_attempts, mode=mode)
    if isinstance(inputs, (str, bytes, Mapping)):
        raise TypeError("map() takes an iterable of inputs (messages or dicts), not a single one")
    for name, callback in (("on_progress", on_progress), ("on_item", on_item)):
        if callback is not None and not callable(callback):
            raise TypeError(f"{name} must be callable, got {type(callback).__name__}")
    return BatchPlan(
        inputs=inputs,
        common=dict(common),
        concurrency=concurrency,
        max_attempts=max_attempts,
        fail_fast=fail_fast,
        on_progress=on_progress,
        on_item=on_item,
        keep_items=output is None if keep_items is None else keep_items,
        output=output,
    )


def split_job_arguments(arguments: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A jobs-mode item's arguments: those of ``execute_async()`` and those of ``wait()``."""
    submit = dict(arguments)
    wait = {_WAIT_ARGUMENTS[name]: submit.pop(name) for name in _WAIT_ARGUMENTS if name in submit}
    return submit, wait


_WAIT_ARGUMENTS = {
    "output_type": "output_type",
    "poll_interval": "poll_interval",
    "wait_timeout": "timeout",
}
"""Jobs-mode arguments that belong to ``Job.wait()`` (``wait_timeout`` is its ``timeout``)."""
