"""A loopback TCP proxy in front of the real dev server that cuts ``/step`` streams on purpose.

Each client connection gets its own upstream connection. The first ``drops`` responses to a
``POST …/step`` are forwarded up to the end of their ``cut_after``-th SSE event, and then the
client's connection is aborted (no final chunk): to the client the stream just breaks, while the
server, having written everything into its socket, may well have finished the run already.
Everything else passes through untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from loopback_serving import serving


class CuttingProxy:
    """Forwards ``127.0.0.1:port`` to the dev server; counts the ``/step`` requests it cut."""

    def __init__(self, upstream_port: int, *, cut_after: int, drops: int = 1) -> None:
        self.upstream_port = upstream_port
        self.cut_after = cut_after
        self.drops = drops
        self.cuts = 0
        self.step_requests = 0
        self.port = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            while True:
                head = await client_r.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await client_r.readexactly(length)
                is_step = head.split(b" ", 2)[1].endswith(b"/step")
                up_w.write(head + body)
                await up_w.drain()
                cut = is_step and self.cuts < self.drops
                self.step_requests += is_step
                if cut:
                    self.cuts += 1
                if not await self._relay_response(up_r, client_w, cut=cut):
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            up_w.close()
            with suppress(Exception):
                client_w.close()

    async def _relay_response(
        self, up_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, *, cut: bool
    ) -> bool:
        """Copy one response; ``False`` when the connection is finished (cut, or not kept)."""
        head = await up_r.readuntil(b"\r\n\r\n")
        client_w.write(head)
        lower = head.lower()
        if b"transfer-encoding: chunked" not in lower:
            length = 0
            for line in lower.split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            client_w.write(await up_r.readexactly(length))
            await client_w.drain()
            return b"connection: close" not in lower
        events = 0
        while True:
            size_line = await up_r.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            chunk = await up_r.readexactly(size + 2)
            if cut:
                data = chunk[:-2]
                end = 0
                while events < self.cut_after:
                    found = data.find(b"\n\n", end)
                    if found < 0:
                        break
                    end, events = found + 2, events + 1
                if events >= self.cut_after:
                    part = data[:end]
                    if part:
                        client_w.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                    await client_w.drain()
                    client_w.transport.abort()  # mid-body: the client sees a broken stream
                    return False
            client_w.write(size_line + chunk)
            await client_w.drain()
            if size == 0:
                return b"connection: close" not in lower

    @contextmanager
    def running(self) -> Iterator[CuttingProxy]:
        """Serve on a background thread's event loop until the block ends."""
        with serving(self._handle, tasks=self._tasks) as port:
            self.port = port
            yield self
