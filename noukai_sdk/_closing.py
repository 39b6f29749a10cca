"""``with``/``async with`` for the SDK's closable objects, written once.

Clients, relay flows, relay transports and streams each release something in ``close()`` (or
``aclose()``); these two bases turn that into the context-manager protocol, so no class spells
``__enter__``/``__exit__`` itself.
"""

from __future__ import annotations

from typing_extensions import Self


class Closing:
    """A blocking resource: ``with obj:`` calls ``obj.close()`` on the way out."""

    __slots__ = ()

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:  # the exception is left to propagate
        self.close()


class AsyncClosing:
    """An asyncio resource: ``async with obj:`` awaits ``obj.aclose()`` on the way out."""

    __slots__ = ()

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:  # the exception is left to propagate
        await self.aclose()
