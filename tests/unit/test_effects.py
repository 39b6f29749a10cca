"""The effect drivers run one protocol identically with blocking and asyncio I/O."""

from __future__ import annotations

from typing import Any

import pytest

from noukai_sdk._core.effects import (
    CallUser,
    Emit,
    SendRequest,
    Sleep,
    Steps,
    iterate_async,
    iterate_sync,
    run_async,
    run_sync,
)
from noukai_sdk._core.http_types import HttpRequest, HttpResponse, StreamHead


class FakeSyncIO:
    def __init__(self, fail_first: bool = False) -> None:
        self.sent: list[HttpRequest] = []
        self.fail_first = fail_first

    def send(self, request: HttpRequest) -> HttpResponse:
        self.sent.append(request)
        if self.fail_first and len(self.sent) == 1:
            raise ConnectionError("boom")
        return HttpResponse(200, {}, b"ok")

    def open_stream(self, request: HttpRequest) -> Any:
        raise NotImplementedError


class FakeAsyncIO:
    def __init__(self, fail_first: bool = False) -> None:
        self.inner = FakeSyncIO(fail_first)

    async def send(self, request: HttpRequest) -> HttpResponse:
        return self.inner.send(request)

    async def open_stream(self, request: HttpRequest) -> Any:
        raise NotImplementedError


def retry_once() -> Steps[bytes]:
    request = HttpRequest("GET", "/x")
    try:
        response: HttpResponse = yield SendRequest(request)
    except ConnectionError:
        yield Sleep(0)
        response = yield SendRequest(request)
    doubled = yield CallUser(lambda b: b * 2, (response.content,))
    return doubled  # type: ignore[no-any-return]


def counting() -> Steps[None]:
    for i in range(3):
        yield Emit(i)


def test_run_sync_delivers_io_errors_into_the_protocol() -> None:
    io = FakeSyncIO(fail_first=True)
    assert run_sync(retry_once(), io) == b"okok"
    assert len(io.sent) == 2


async def test_run_async_matches_sync() -> None:
    io = FakeAsyncIO(fail_first=True)
    assert await run_async(retry_once(), io) == b"okok"


async def test_async_driver_awaits_awaitable_user_results() -> None:
    async def handler(x: int) -> int:
        return x + 1

    def proto() -> Steps[int]:
        return (yield CallUser(handler, (1,)))  # type: ignore[no-any-return]

    assert await run_async(proto(), FakeAsyncIO()) == 2


def test_iterators_yield_emitted_values() -> None:
    assert list(iterate_sync(counting(), FakeSyncIO())) == [0, 1, 2]


async def test_async_iterator_yields_emitted_values() -> None:
    assert [v async for v in iterate_async(counting(), FakeAsyncIO())] == [0, 1, 2]


def test_emit_outside_iterator_is_an_error() -> None:
    with pytest.raises(TypeError):
        run_sync(counting(), FakeSyncIO())


def test_stream_head_request_id() -> None:
    assert StreamHead(200, {"x-request-id": "r"}).request_id == "r"
