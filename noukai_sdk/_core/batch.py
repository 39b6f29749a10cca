"""Batches: the items and results of ``flow.map()``, and the decisions it makes (no I/O).

``flow.map()`` runs one flow over many inputs. What an input means, what an item's outcome is,
when a call may start, when a rate-limited item is tried again, how far the whole batch slows
down and when it stops are decided here (:class:`BatchSchedule`); :mod:`noukai_sdk._batch` does
the running.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from noukai_sdk._core.errors import FlowExecutionError, NoukaiError, RateLimitError

BatchMode = Literal["execute", "jobs"]
ResultT = TypeVar("ResultT")

DEFAULT_BATCH_CONCURRENCY = 8
DEFAULT_BATCH_MAX_ATTEMPTS = 3
RATE_LIMIT_FALLBACK_DELAY = 1.0
"""Seconds a rate-limited batch pauses when the 429 names no ``Retry-After``."""
RATE_LIMIT_MAX_DELAY = 60.0
"""The longest pause a ``Retry-After`` can impose on a batch."""


@dataclass(slots=True)
class BatchItem(Generic[ResultT]):
    """One input of a batch and its outcome: a ``result``, or the ``error`` it ended with.

    ``result`` is an :class:`~noukai_sdk.ExecuteResult` (``mode="execute"``) or a job status
    (``mode="jobs"``); a run that finished with status ``"failed"`` keeps its result and gets a
    :class:`~noukai_sdk.FlowExecutionError` as ``error``. ``attempts`` counts the tries
    (rate-limited ones included).
    """

    index: int
    input: Any
    result: ResultT | None = None
    error: Exception | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


class BatchError(NoukaiError):
    """Some items of a batch failed; ``failed`` holds them (index, input, error)."""

    def __init__(self, message: str, *, failed: list[BatchItem[Any]]) -> None:
        super().__init__(message)
        self.failed = failed


@dataclass(slots=True)
class BatchResult(Generic[ResultT]):
    """Every item of a batch, in input order (or only the counts, with ``keep_items=False``)."""

    items: list[BatchItem[ResultT]] = field(default_factory=lambda: [])
    done: int = 0
    failed_count: int = 0

    @property
    def succeeded(self) -> list[BatchItem[ResultT]]:
        return [item for item in self.items if item.error is None]

    @property
    def failed(self) -> list[BatchItem[ResultT]]:
        return [item for item in self.items if item.error is not None]

    def results(self) -> list[ResultT]:
        """Every item's result in input order, or :class:`BatchError` naming the failed indexes."""
        failed = self.failed
        if failed:
            shown = ", ".join(str(item.index) for item in failed[:20])
            more = f" and {len(failed) - 20} more" if len(failed) > 20 else ""
            first = failed[0].error
            raise BatchError(
                f"{len(failed)} of {len(self.items)} batch items failed (indexes {shown}{more}); "
                f"the first: {type(first).__name__}: {first}",
                failed=failed,
            )
        return [item.result for item in self.items if item.result is not None]

    def __len__(self) -> int:
        return len(self.items)


def item_arguments(item: object, common: Mapping[str, Any], *, index: int) -> dict[str, Any]:
    """The keyword arguments of one item's call: the common ones, then the item's own.

    An item is a message string, or a mapping of the call's keyword arguments.
    """
    if isinstance(item, str):
        return {**common, "message": item}
    if isinstance(item, Mapping):
        return {**common, **{str(key): value for key, value in item.items()}}  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    raise TypeError(
        f"batch input {index} is a {type(item).__name__}; give a message string or a dict of "
        "execute() keyword arguments"
    )


def failed_run_error(result: object) -> FlowExecutionError | None:
    """The error a finished-but-failed run counts as in a batch (``None`` when it did not fail)."""
    if getattr(result, "status", None) != "failed":
        return None
    execution_id = getattr(result, "execution_id", None)
    return FlowExecutionError(
        f"Run {execution_id or '(id unknown)'} finished with status 'failed'.",
        code="FLOW_FAILED",
        execution_id=execution_id,
    )


def rate_limit_pause(error: RateLimitError) -> float:
    """How long the whole batch waits after ``error``: its ``Retry-After``, bounded."""
    asked = error.retry_after
    if asked is None or asked != asked or asked < 0:
        return RATE_LIMIT_FALLBACK_DELAY
    return min(asked, RATE_LIMIT_MAX_DELAY)


@dataclass(slots=True)
class AdaptiveLimit:
    """How many items may be in flight: at most ``ceiling``, halved on each 429, grown back.

    A 429 at ``n`` calls in flight marks ``n - 1`` as the level the server is known to accept:
    the limit grows back to it quickly (one more slot per ``limit`` successes) and probes above
    it only after a long run of successes, so a throttled batch settles just under the
    server's limit instead of pausing on a 429 every few items.
    """

    ceiling: int
    limit: float = 0.0
    known_good: int = 0
    streak: int = 0

    def __post_init__(self) -> None:
        if self.limit <= 0:
            self.limit = float(self.ceiling)
        if self.known_good <= 0:
            self.known_good = self.ceiling

    @property
    def slots(self) -> int:
        return max(1, int(self.limit))

    def rate_limited(self, in_flight: int) -> None:
        level = max(1, min(int(self.limit), in_flight))
        self.known_good = max(1, level - 1)
        self.limit = max(1.0, level / 2.0)
        self.streak = 0

    def succeeded(self) -> None:
        self.streak += 1
        if self.limit >= self.ceiling:
            return
        if self.limit < self.known_good:
            self.limit = min(float(self.known_good), self.limit + 1.0 / self.limit)
        elif self.streak >= PROBE_AFTER_SUCCESSES * self.slots:
            self.limit = min(float(self.ceiling), float(self.slots + 1))
            self.known_good = max(self.known_good, self.slots)
            self.streak = 0


PROBE_AFTER_SUCCESSES = 25
"""Successes per slot in a row before a throttled batch tries one more call in flight."""

WAIT_FOR_SLOT = math.inf
"""What :meth:`BatchSchedule.admit` answers when every call slot is taken: wait for a release."""


class BatchSchedule:
    """The state one batch's workers share, and every decision they act on.

    Each worker takes the next input (:meth:`next_item`), asks before each call whether it may
    start (:meth:`admit`), hands back its slot (:meth:`release`) and reports how the call went;
    the schedule answers whether a rate-limited item is tried again, how long the whole batch
    pauses, how many calls may be in flight, and whether the batch stops. The workers of a batch
    run on one event loop, so the schedule needs no lock.
    """

    __slots__ = (
        "_common",
        "_fail_fast",
        "_inputs",
        "_max_attempts",
        "calling",
        "limit",
        "paused_until",
        "stopped",
    )

    def __init__(
        self,
        inputs: Iterable[Any],
        *,
        common: Mapping[str, Any],
        concurrency: int,
        max_attempts: int,
        fail_fast: bool,
    ) -> None:
        self._inputs: Iterator[tuple[int, Any]] = enumerate(inputs)
        self._common = common
        self._max_attempts = max_attempts
        self._fail_fast = fail_fast
        self.limit = AdaptiveLimit(concurrency)
        self.calling = 0
        self.paused_until = 0.0
        self.stopped = False

    def next_item(self) -> tuple[BatchItem[Any], dict[str, Any] | None] | None:
        """The next input as an item and its call's arguments; ``None`` once inputs run out or
        the batch stopped. An input that is no call gets its error at once and no arguments."""
        if self.stopped:
            return None
        try:
            index, value = next(self._inputs)
        except StopIteration:
            self.stopped = True
            return None
        item: BatchItem[Any] = BatchItem(index=index, input=value)
        try:
            return item, item_arguments(value, self._common, index=index)
        except TypeError as error:
            item.error = error
            return item, None

    def admit(self, item: BatchItem[Any], now: float) -> float:
        """Take a call slot for one attempt at ``item`` and answer ``0.0``, or say how long to
        wait before asking again: the rest of a rate-limit pause, or :data:`WAIT_FOR_SLOT` while
        every slot is busy."""
        if now < self.paused_until:
            return self.paused_until - now
        if self.calling >= self.limit.slots:
            return WAIT_FOR_SLOT
        self.calling += 1
        item.attempts += 1
        return 0.0

    def release(self) -> None:
        """A call ended (however it ended): its slot is free again."""
        self.calling -= 1

    def rate_limited(self, item: BatchItem[Any], error: RateLimitError, now: float) -> bool:
        """After a 429 (its slot released): whether to try ``item`` again.

        Trying again slows the whole batch: fewer calls in flight, and nobody starts one before
        the ``Retry-After`` has passed. Out of attempts, the 429 is the item's error.
        """
        if item.attempts >= self._max_attempts:
            item.error = error
            return False
        self.limit.rate_limited(self.calling + 1)
        self.paused_until = max(self.paused_until, now + rate_limit_pause(error))
        return True

    def succeeded(self, item: BatchItem[Any], result: object) -> None:
        """The call answered: the item keeps the result (a failed run also counts as an error)."""
        item.result = result
        item.error = failed_run_error(result)
        self.limit.succeeded()

    def failed(self, item: BatchItem[Any], error: Exception) -> None:
        """The call raised: the error is the item's own, and the batch goes on."""
        item.error = error

    def stop(self) -> None:
        """Start no more items (the batch failed, or its caller stopped it)."""
        self.stopped = True

    def stops_batch(self, item: BatchItem[Any]) -> bool:
        """Whether ``item``'s outcome ends the batch (``fail_fast`` and an error): no item starts
        after this answers ``True``."""
        if self._fail_fast and item.error is not None:
            self.stopped = True
        return self._fail_fast and item.error is not None


def check_batch_options(*, concurrency: object, max_attempts: object, mode: str) -> None:
    """Refuse options that cannot run, before anything starts."""
    for name, value in (("concurrency", concurrency), ("max_attempts", max_attempts)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if mode not in ("execute", "jobs"):
        raise ValueError(f"mode must be 'execute' or 'jobs', got {mode!r}")
