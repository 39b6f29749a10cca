# pyright: reportUnnecessaryIsInstance=false
# (user input is checked at runtime even where the annotations already promise its type)
"""Tool-call helpers shared by the ``/execute`` tool loop and the ``/step`` protocol.

Tool results are accepted in the three shapes the docs have shown over time and always sent in
the OpenAI shape; results are checked against the pending calls before any request.
"""

from __future__ import annotations

import inspect
import json
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from noukai_sdk._core.constants import DEFAULT_MAX_TOOL_ROUNDS, TOOL_HISTORY_SOFT_LIMIT
from noukai_sdk._core.errors import ToolCallLimitError
from noukai_sdk_generated.models.chat_message import ChatMessage

TOOL_ROLE = "tool"
# Keys of an OpenAI tool message and the README shapes (chat-message content, not API fields).
_ROLE, _ID, _CONTENT = "role", "tool_call_id", "content"
_OUTPUT, _NAME = "output", "name"
_CAMEL_ID: str = ChatMessage.model_fields["tool_call_id"].alias or "tool_call_id"
"""The 0.4.0 README's ``toolCallId``: ChatMessage's wire name for ``tool_call_id``."""


def normalize_tool_results(
    results: Sequence[Mapping[str, Any]], pending_tool_calls: Sequence[Any]
) -> list[dict[str, Any]]:
    """Tool results as OpenAI tool messages ``{role: tool, tool_call_id, content}``.

    Accepts ``{role: tool, tool_call_id, content}``, ``{tool_call_id, output}`` and
    ``{toolCallId, output}``; non-string output is JSON-encoded. Raises ``ValueError`` for a
    result without an id, or whose id matches none of ``pending_tool_calls``.
    """
    given: object = results
    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
        raise TypeError("tool results must be a list of dicts")
    pending = {_call_id(call) for call in pending_tool_calls}
    normalized: list[dict[str, Any]] = []
    for index, result in enumerate(results):
        entry: object = result
        if not isinstance(entry, Mapping):
            raise TypeError(f"tool result {index} must be a dict, got {type(result).__name__}")
        call_id = result.get(_ID, result.get(_CAMEL_ID))
        if not isinstance(call_id, str) or not call_id:
            raise ValueError(
                f"tool result {index} has no tool_call_id; expected "
                "{'role': 'tool', 'tool_call_id': <id>, 'content': <text>}"
            )
        if call_id not in pending:
            known = ", ".join(sorted(str(p) for p in pending)) or "none"
            raise ValueError(
                f"tool result {index} answers tool call {call_id!r}, which is not pending "
                f"(pending: {known})"
            )
        message: dict[str, Any] = {
            _ROLE: TOOL_ROLE,
            _ID: call_id,
            _CONTENT: _as_text(result[_CONTENT] if _CONTENT in result else result.get(_OUTPUT)),
        }
        name = result.get(_NAME)
        if isinstance(name, str):
            message[_NAME] = name
        normalized.append(message)
    return normalized


def warn_if_history_too_long(messages: Sequence[Any]) -> None:
    """Warn (visibly) when the next ``toolCallMessages`` exceeds the soft limit of 200 entries."""
    if len(messages) > TOOL_HISTORY_SOFT_LIMIT:
        warnings.warn(
            f"The tool-call history has {len(messages)} messages (more than "
            f"{TOOL_HISTORY_SOFT_LIMIT}); the server will eventually reject it with "
            "MESSAGES_TOO_LARGE. Consider fewer tool rounds.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def check_tool_round_limit(rounds: int, max_tool_rounds: int, execution_id: str | None) -> None:
    """Raise :class:`ToolCallLimitError` before handler call ``rounds + 1`` would exceed the limit."""
    if rounds >= max_tool_rounds:
        raise ToolCallLimitError(
            f"Tool call loop exceeded max_tool_rounds={max_tool_rounds}",
            code="TOOL_CALL_LIMIT_CLIENT",
            execution_id=execution_id,
        )


def resolve_max_tool_rounds(max_tool_rounds: object) -> int:
    """``None`` means the default (10); otherwise a non-negative integer."""
    if max_tool_rounds is None:
        return DEFAULT_MAX_TOOL_ROUNDS
    if (
        isinstance(max_tool_rounds, bool)
        or not isinstance(max_tool_rounds, int)
        or max_tool_rounds < 0
    ):
        raise ValueError(f"max_tool_rounds must be a non-negative integer, got {max_tool_rounds!r}")
    return max_tool_rounds


def is_async_callable(func: Callable[..., Any]) -> bool:
    """True for coroutine functions and objects whose ``__call__`` is one."""
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004
    )


def reject_async_handler_on_sync_client(handler: Callable[..., Any] | None) -> None:
    """The blocking client cannot await a handler: refuse it before any request."""
    if handler is not None and is_async_callable(handler):
        raise TypeError(
            "Sync client cannot use async tool_handler; use AsyncNoukai, or pass a plain function."
        )


def caller_stacklevel() -> int:
    """The ``stacklevel`` that attributes a warning to the first frame outside ``noukai_sdk``."""
    level = 1
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("noukai_sdk"):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _call_id(call: Any) -> Any:
    """The ``id`` of a pending call (a dict as the server sent it, or a model with ``id``)."""
    if isinstance(call, Mapping):
        return cast("Mapping[str, Any]", call).get("id")
    return getattr(call, "id", None)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
