"""Session-id precedence and the active-scope context variable."""

from __future__ import annotations

import asyncio
import contextvars
import threading

from noukai_sdk._core.scope import (
    Scope,
    active_scope,
    current_session_id,
    enter_scope,
    exit_scope,
    resolve_session_id,
)


def test_outside_any_scope_the_client_default_is_used() -> None:
    assert active_scope() is None
    assert current_session_id() is None
    assert resolve_session_id(None, "client-default") == "client-default"
    assert resolve_session_id(None, None) is None


def test_per_call_wins_over_scope_and_client_default() -> None:
    token = enter_scope(Scope(mode="capture", session_id="scope-id"))
    try:
        assert resolve_session_id("per-call", "client-default") == "per-call"
        assert resolve_session_id("", "client-default") == ""
    finally:
        exit_scope(token)


def test_scope_wins_over_client_default() -> None:
    token = enter_scope(Scope(mode="capture", session_id="scope-id"))
    try:
        assert current_session_id() == "scope-id"
        assert resolve_session_id(None, "client-default") == "scope-id"
    finally:
        exit_scope(token)
    assert active_scope() is None


def test_normal_scope_falls_back_to_client_default() -> None:
    token = enter_scope(Scope(mode="normal", session_id=None))
    try:
        assert current_session_id() is None
        assert resolve_session_id(None, "client-default") == "client-default"
    finally:
        exit_scope(token)


async def test_asyncio_tasks_inherit_the_scope() -> None:
    token = enter_scope(Scope(mode="capture", session_id="scope-id"))
    try:
        assert await asyncio.create_task(_read_session_id()) == "scope-id"
    finally:
        exit_scope(token)


async def _read_session_id() -> str | None:
    return current_session_id()


def test_threads_see_the_scope_only_with_a_copied_context() -> None:
    token = enter_scope(Scope(mode="capture", session_id="scope-id"))
    seen: dict[str, str | None] = {}
    try:
        plain = threading.Thread(target=lambda: seen.__setitem__("plain", current_session_id()))
        context = contextvars.copy_context()
        copied = threading.Thread(
            target=lambda: seen.__setitem__("copied", context.run(current_session_id))
        )
        for thread in (plain, copied):
            thread.start()
            thread.join()
    finally:
        exit_scope(token)
    assert seen == {"plain": None, "copied": "scope-id"}
