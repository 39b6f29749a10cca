"""The typed interface between a client and the code that uses it: shells and features.

A client hands out one link holding what flows, jobs, runs, replay, the relay adapters and
OpenTelemetry need from it: the request context (retry policy, log hook, default timeout,
secrets), the I/O its driver performs effects with, and its default session id. Its type says
whether the client is blocking (:class:`SyncLink`) or asyncio (:class:`AsyncLink`), so nothing
outside the client module reads a client's private attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, Union

from noukai_sdk._core.effects import AsyncIO, Steps, SyncIO, run_async, run_sync
from noukai_sdk._core.requesting import RequestContext

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class SyncLink:
    """A blocking client's context and I/O; :meth:`run` drives a protocol with them."""

    context: RequestContext
    io: SyncIO
    session_id: str | None

    def run(self, protocol: Steps[T]) -> T:
        return run_sync(protocol, self.io)


@dataclass(frozen=True, eq=False)
class AsyncLink:
    """An asyncio client's context and I/O; :meth:`run` drives a protocol with them."""

    context: RequestContext
    io: AsyncIO
    session_id: str | None

    async def run(self, protocol: Steps[T]) -> T:
        return await run_async(protocol, self.io)


ClientLink = Union[SyncLink, AsyncLink]  # noqa: UP007 (runtime alias on 3.10)
