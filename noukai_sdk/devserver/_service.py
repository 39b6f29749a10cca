"""The dev server's shared state and the checks and engine driving every route goes through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Generator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from noukai_sdk.devserver._accounts import Accounts, KeySpec
from noukai_sdk.devserver._config import ServerConfig
from noukai_sdk.devserver._engine import Engine, Event, StepRecord, StopReason, Wait
from noukai_sdk.devserver._errors import ApiError, ServerStopping
from noukai_sdk.devserver._flows import FlowCatalog, FlowSpec, load_catalog
from noukai_sdk.devserver._runs import RunState, now_iso
from noukai_sdk.devserver._store import Store

if TYPE_CHECKING:
    from starlette.requests import Request


_MAX_BATCH = 256
INTERRUPTED = "INTERRUPTED"
"""Error code of a step attempt cut short by a disconnect or a shutdown (retried, not failed)."""
_INTERRUPTION = {"code": INTERRUPTED, "message": "The step was interrupted before it ended."}


def server_of(request: Request) -> DevServer:
    """The :class:`DevServer` behind a request's application."""
    server: DevServer = request.app.state.devserver
    return server


@dataclass(frozen=True, slots=True)
class FlowAccess:
    """A request that passed the checks for a flow: its key, flow and resolved version."""

    key: KeySpec
    flow: FlowSpec
    version: int


@dataclass
class Outcome:
    """Why the engine stopped, filled in once :meth:`DevServer.drive` finishes."""

    reason: StopReason | None = None


class DevServer:
    """Flows, keys, storage and the change notifications live tails wait on."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.catalog: FlowCatalog = load_catalog(config.flow_dirs)
        self.accounts = Accounts.from_file(config.keys_file)
        self.store = Store(config.db)
        self._changed = asyncio.Condition()
        self.jobs_waiting = asyncio.Event()
        # When each job submitted by this process may be picked up (event-loop time).
        self.job_pickup_at: dict[str, float] = {}
        self._busy: set[str] = set()
        self.draining = False
        self._stopping = asyncio.Event()

    # shutdown ---------------------------------------------------------------------------------

    def begin_shutdown(self, *, grace_seconds: float) -> None:
        """A stop was asked for: live trace tails end now; runs still inside a block after
        ``grace_seconds`` are interrupted (see :class:`ServerStopping`), so that every open request
        ends with an answer before the process exits."""
        if self.draining:
            return
        self.draining = True
        loop = asyncio.get_running_loop()
        self._wake_tails = loop.create_task(self._notify())
        loop.call_later(grace_seconds, self._stopping.set)

    async def _block_latency(self, seconds: float) -> None:
        """Sleep for a block's latency, unless the shutdown grace period ends first."""
        if self._stopping.is_set():
            raise ServerStopping
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({stopping}, timeout=seconds)
        finally:
            stopping.cancel()
        if self._stopping.is_set():
            raise ServerStopping

    # request checks ---------------------------------------------------------------------------

    def authenticate(self, request: Request) -> KeySpec:
        return self.accounts.authenticate(request.headers.get("authorization"))

    def check_flow(self, request: Request, *, charge: bool) -> FlowAccess:
        """The flow named by the path, after the checks: 401, 403, 404, then 402 if ``charge``.

        The path's ``/v{version}`` segment (absent: the latest published version) picks the version.
        """
        params = request.path_params
        org, project, slug = params["org"], params["project"], params["slug"]
        version: int | None = params.get("version")
        key = self.authenticate(request)
        self.accounts.authorize(key, f"{org}/{project}")
        flow = self.catalog.find(org, project, slug)
        if flow is None:
            raise ApiError(404, "FLOW_NOT_FOUND", f"No flow '{org}/{project}/{slug}'.")
        resolved = flow.resolve_version(version)
        if resolved is None:
            raise ApiError(404, "FLOW_NOT_FOUND", f"Flow '{flow.key}' has no version {version}.")
        if charge and self.store.balance(key.key_hash, initial=key.credits_usd) <= 0:
            raise ApiError(402, "INSUFFICIENT_CREDITS", "This API key has no credits left.")
        return FlowAccess(key, flow, resolved)

    @contextmanager
    def slot(self, key: KeySpec) -> Generator[None, None, None]:
        """Hold a concurrency slot of ``key`` (429 when none is free) for the block."""
        self.accounts.acquire(key)
        try:
            yield
        finally:
            self.accounts.release(key)

    def claim(self, run: RunState) -> None:
        """Mark ``run`` as being advanced by one request; a second one at once gets 409."""
        if run.execution_id in self._busy:
            raise ApiError(
                409,
                "EXECUTION_BUSY",
                f"Execution '{run.execution_id}' is being advanced by another request.",
            )
        self._busy.add(run.execution_id)

    def unclaim(self, run: RunState) -> None:
        self._busy.discard(run.execution_id)

    def find_run(self, flow: FlowSpec, execution_id: str) -> RunState | None:
        run = self.store.load_run(execution_id)
        return run if run is not None and run.flow_key == flow.key else None

    # running ----------------------------------------------------------------------------------

    async def drive(
        self, run: RunState, engine: Engine, outcome: Outcome
    ) -> AsyncIterator[list[Event]]:
        """Run ``engine``, persisting its events, step records and the run; yield event batches.

        Events produced without a pause in between (a block's output deltas with no latency) are
        stored in one transaction and handed over as one batch, so a stream writes them together.
        """
        cost_before = Decimal(run.cost_usd)
        batch: list[Event] = []
        try:
            while True:
                try:
                    item = next(engine)
                except StopIteration as stop:
                    outcome.reason = stop.value
                    break
                if isinstance(item, Event):
                    batch.append(item)
                    if len(batch) < _MAX_BATCH:
                        continue
                elif isinstance(item, StepRecord):
                    self.store.record_step(run.execution_id, item)
                    if item.status == "running":  # the attempt count survives a kill
                        self.store.save_run(run)
                    continue
                elif item.seconds <= 0:
                    continue
                if batch:
                    yield await self._publish(run, batch)
                    batch = []
                if isinstance(item, Wait):
                    await self._block_latency(item.seconds)
            if batch:
                yield await self._publish(run, batch)
        finally:
            engine.close()
            if outcome.reason is None and not run.is_terminal:
                self._interrupted(run)
            self.store.save_run(run)
            key = self.accounts.find(run.key_hash)
            spent = Decimal(run.cost_usd) - cost_before
            if spent and key is not None:
                self.store.charge(key.key_hash, spent, initial=key.credits_usd)
            await self._notify()

    def _interrupted(self, run: RunState) -> None:
        """The engine was stopped mid-step (client gone, shutdown): the step attempt in progress
        is recorded as failed, and the run waits at its cursor (see :func:`_settle_interrupted`)."""
        self.store.fail_running_steps(run.execution_id, error=_INTERRUPTION, completed_at=now_iso())
        _settle_interrupted(run)

    def recover_after_stop(self) -> None:
        """At start-up, treat what a killed process left running as interrupted, so that no
        trace shows a step running forever; then put its running jobs back in the queue."""
        self.store.fail_running_steps(None, error=_INTERRUPTION, completed_at=now_iso())
        for run in self.store.runs_left_running():
            _settle_interrupted(run)
            self.store.save_run(run)
        self.store.requeue_interrupted_jobs()

    async def _publish(self, run: RunState, batch: list[Event]) -> list[Event]:
        self.store.append_events(run.execution_id, batch)
        await self._notify()
        return batch

    async def run_to_stop(self, run: RunState, engine: Engine) -> StopReason:
        outcome = Outcome()
        async for _ in self.drive(run, engine, outcome):
            pass
        assert outcome.reason is not None
        return outcome.reason

    async def tail(self, execution_id: str) -> AsyncIterator[Event]:
        """Stored events of a run, then new ones as they are stored, until the run is terminal."""
        seen = 0
        while True:
            for seq, event in self.store.events_after(execution_id, seen):
                seen = seq
                yield event
            run = self.store.load_run(execution_id)
            if run is None or run.is_terminal or self.draining:
                for seq, event in self.store.events_after(execution_id, seen):
                    seen = seq
                    yield event
                return
            async with self._changed:
                with suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout=0.5)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


def _settle_interrupted(run: RunState) -> None:
    """Where an interrupted run goes: a /step run or a job waits at its cursor (the next /step,
    or the worker, runs the step again); a blocking /execute run, which nobody can continue
    unless it waits for tool results, has failed."""
    if run.tool is not None:
        run.status = "paused_for_tools"
    elif run.trigger == "execute":
        run.status = "failed"
        run.error = dict(_INTERRUPTION)
        run.completed_at = now_iso()
    else:
        run.status = "paused"
