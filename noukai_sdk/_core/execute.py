"""The ``/execute`` protocol: the validated call, the fresh call and its tool-call loop, resumes.

Written once as a sans-IO generator (:func:`execute_protocol`); ``Flow`` drives it with blocking
I/O, ``AsyncFlow`` with asyncio, and the relay client against its relay transport.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, Union, cast

from noukai_sdk._core.config import check_timeout
from noukai_sdk._core.constants import (
    ALLOWED_MESSAGE_ROLES,
    DEFAULT_MAX_TOOL_ROUNDS,
    MESSAGES_MAX_BYTES,
    MESSAGES_WARN_BYTES,
)
from noukai_sdk._core.effects import Steps, call_user
from noukai_sdk._core.http_types import HttpRequest, Timeout
from noukai_sdk._core.link import AsyncLink, ClientLink
from noukai_sdk._core.output import check_output_type
from noukai_sdk._core.paths import FlowAddress, Version, version_number
from noukai_sdk._core.requesting import RequestContext, send_with_retries
from noukai_sdk._core.results import (
    ExecuteOutcome,
    ExecuteResult,
    PausedResult,
    ResumeBinding,
    ToolResults,
    attach_parsed,
    parse_execute_response,
)
from noukai_sdk._core.runs import usage_protocol
from noukai_sdk._core.scope import resolve_session_id
from noukai_sdk._core.tool_calls import (
    caller_stacklevel,
    check_tool_round_limit,
    normalize_tool_results,
    resolve_max_tool_rounds,
    warn_if_history_too_long,
)
from noukai_sdk_generated.models import ChatMessage, ExecuteRequest

ToolHandler = Callable[[list[dict[str, Any]]], ToolResults]
AsyncToolHandler = Callable[[list[dict[str, Any]]], ToolResults | Awaitable[ToolResults]]
MessageInput = Union[ChatMessage, Mapping[str, Any]]  # noqa: UP007 (runtime alias on 3.10)

_ROLE = ChatMessage.model_fields["role"].alias or "role"


class ExecuteTarget(Protocol):
    """Where ``/execute`` calls and their resumes go: a :class:`FlowAddress` or a relay URL."""

    def operation_request(
        self,
        op: Literal["execute"],
        *,
        version: int | None,
        body: Any,
        session_id: str | None,
        timeout: Timeout,
    ) -> HttpRequest: ...


@dataclass(frozen=True, slots=True)
class ExecuteCall:
    """Everything one ``execute()`` needs, validated; the inputs resent on every resume.

    Built by :meth:`from_args` from the public arguments, for flows and relay flows alike, so a
    new ``execute()`` option is a field here, a parameter there, and nothing else.
    """

    address: ExecuteTarget
    version: int | None
    message: str | None
    messages: list[dict[str, Any]] | None
    parameters: dict[str, Any]
    block_overrides: dict[str, Any] | None
    attachments: list[Any] | None
    tools: list[Any] | None
    tool_choice: Any
    trace: bool
    timeout: Timeout
    session_id: str | None
    tool_handler: Callable[..., Any] | None = None
    max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS
    output_type: Any = None
    """What the completed output is validated as (``result.parsed``); ``None``: not validated."""
    usage: bool = False
    """Fetch the run trace after a completed run to fill ``result.usage`` (flows only)."""

    @classmethod
    def from_args(
        cls,
        address: ExecuteTarget,
        *,
        client_session_id: str | None,
        in_session: bool = True,
        message: str | None = None,
        messages: Sequence[MessageInput] | None = None,
        parameters: Mapping[str, Any] | None = None,
        block_overrides: Mapping[str, Any] | None = None,
        attachments: Sequence[Any] | None = None,
        tools: Sequence[Any] | None = None,
        tool_choice: Any = None,
        tool_handler: Callable[..., Any] | None = None,
        max_tool_rounds: int | None = DEFAULT_MAX_TOOL_ROUNDS,
        trace: bool = False,
        version: Version = None,
        timeout: Timeout = None,
        session_id: str | None = None,
        output_type: Any = None,
        usage: bool = False,
    ) -> ExecuteCall:
        """The call for these public arguments, checked before any request is made.

        ``client_session_id`` is the client's default session; the per-call ``session_id``
        and the active scope's session come first. A relay passes ``in_session=False`` (it
        never sends a session id) and leaves ``version`` unset (the relay pins it). An
        ``output_type`` pydantic cannot validate is a ``TypeError`` here, before the run is paid.
        """
        if message is not None and messages:
            raise ValueError("Provide `message` or `messages`, not both.")
        check_output_type(output_type)
        resolved = resolve_session_id(session_id, client_session_id)
        return cls(
            address=address,
            version=version_number(version),
            message=message,
            messages=serialize_messages(messages),
            parameters=dict(parameters) if parameters else {},
            block_overrides=dict(block_overrides) if block_overrides is not None else None,
            attachments=as_list(attachments, name="attachments"),
            tools=as_list(tools, name="tools"),
            tool_choice=tool_choice,
            trace=bool(trace),
            timeout=check_timeout(timeout),
            session_id=resolved if in_session else None,
            tool_handler=tool_handler,
            max_tool_rounds=resolve_max_tool_rounds(max_tool_rounds),
            output_type=output_type,
            usage=bool(usage),
        )

    def request(self, body: dict[str, Any]) -> HttpRequest:
        """The ``/execute`` POST of ``body`` (a fresh call or a resume) to this call's target."""
        return self.address.operation_request(
            "execute",
            version=self.version,
            body=body,
            session_id=self.session_id,
            timeout=self.timeout,
        )

    def fresh_body(self) -> dict[str, Any]:
        return self._body(with_tools=True, message=self.message, messages=self.messages)

    def job_body(self) -> dict[str, Any]:
        """The ``/jobs`` body: tools, attachments and messages are never sent on a job."""
        return self._body(with_tools=False, message=self.message)

    def resume_body(self, paused: PausedResult, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return self._body(
            with_tools=True,
            execution_id=paused.execution_id,
            paused_at_step=paused.paused_at_step,
            iterations_used=paused.iterations_used,
            tool_call_messages=messages,
            accumulated_outputs=paused.accumulated_outputs,
        )

    def _body(self, *, with_tools: bool, **fields: Any) -> dict[str, Any]:
        """``fields`` plus what every request carries, as an ``ExecuteRequest`` in wire form."""
        fields.update(parameters=self.parameters, block_overrides=self.block_overrides)
        if with_tools:
            fields.update(
                attachments=self.attachments, tools=self.tools, tool_choice=self.tool_choice
            )
        return ExecuteRequest.model_validate({**fields, "trace": self.trace}).to_wire()


def execute_protocol(call: ExecuteCall, ctx: RequestContext) -> Steps[ExecuteOutcome]:
    """POST ``/execute``; with a tool handler, answer every pause until the run finishes."""
    response = yield from send_with_retries(call.request(call.fresh_body()), ctx)
    outcome = parse_execute_response(response, session_id=call.session_id)
    rounds = 0
    while isinstance(outcome, PausedResult) and call.tool_handler is not None:
        check_tool_round_limit(rounds, call.max_tool_rounds, outcome.execution_id)
        results = yield from call_user(call.tool_handler, outcome.tool_calls)
        rounds += 1
        outcome = yield from _send_resume(call, outcome, results, ctx)
    return (yield from finish_outcome(call, outcome, ctx))


def resume_protocol(
    call: ExecuteCall, paused: PausedResult, tool_results: ToolResults, ctx: RequestContext
) -> Steps[ExecuteOutcome]:
    """Resume ``paused`` by hand; the result is finished like the first call's (``parsed``, usage)."""
    outcome = yield from _send_resume(call, paused, tool_results, ctx)
    return (yield from finish_outcome(call, outcome, ctx))


def finish_outcome(
    call: ExecuteCall, outcome: ExecuteOutcome, ctx: RequestContext
) -> Steps[ExecuteOutcome]:
    """A final result gets ``parsed`` (``output_type``) and, with ``usage``, the run's usage.

    A paused result is returned as it is: its resume finishes the result it leads to.
    """
    if isinstance(outcome, ExecuteResult):
        attach_parsed(outcome, call.output_type)
        if call.usage and outcome.status == "completed" and isinstance(call.address, FlowAddress):
            outcome._usage = yield from usage_protocol(
                call.address, outcome.execution_id, ctx, timeout=call.timeout
            )
    return outcome


def resumable(
    call: ExecuteCall,
    link: ClientLink,
    protocol: Steps[ExecuteOutcome],
    wrap: Callable[[Steps[ExecuteOutcome]], Steps[ExecuteOutcome]] = lambda protocol: protocol,
) -> Steps[ExecuteOutcome]:
    """``protocol`` run through ``wrap``, a paused outcome bound to resume through ``link``.

    The resume runs the same way (``wrap``, then bound again), so a blocking client's
    ``resume_sync()`` returns the next outcome and an asyncio client's ``resume()`` awaits it.
    """
    outcome = yield from wrap(protocol)
    if isinstance(outcome, PausedResult):

        def resume(paused: PausedResult, tool_results: ToolResults) -> Any:
            again = resume_protocol(call, paused, tool_results, link.context)
            return link.run(resumable(call, link, again, wrap))

        outcome._binding = ResumeBinding(is_async=isinstance(link, AsyncLink), resume=resume)
    return outcome


def replayed_outcome(call: ExecuteCall, replayed: Steps[ExecuteResult]) -> Steps[ExecuteResult]:
    """A replayed result, parsed as a live one would be; ``usage`` stays ``None`` (no live request)."""
    result = yield from replayed
    attach_parsed(result, call.output_type)
    return result


def _send_resume(
    call: ExecuteCall, paused: PausedResult, tool_results: ToolResults, ctx: RequestContext
) -> Steps[ExecuteOutcome]:
    """POST the resume of ``paused``: the pause's conversation plus the tool results.

    Unlike 0.2.0 the resume carries ``X-Session-Id`` and its result keeps ``session_id``.
    """
    messages = [
        *paused.tool_call_messages,
        *normalize_tool_results(tool_results, paused.tool_calls),
    ]
    warn_if_history_too_long(messages)
    response = yield from send_with_retries(call.request(call.resume_body(paused, messages)), ctx)
    return parse_execute_response(response, session_id=call.session_id)


def serialize_messages(messages: Sequence[MessageInput] | None) -> list[dict[str, Any]] | None:
    """Validate ``messages`` and return their wire form; empty means absent."""
    if not messages:
        return None
    if isinstance(messages, (str, bytes, Mapping)):
        raise TypeError("messages must be a list of dicts or ChatMessage objects")
    wire: list[dict[str, Any]] = []
    for index, entry in enumerate(messages):
        role = entry.role if isinstance(entry, ChatMessage) else _dict_role(entry)
        if not isinstance(role, str):
            raise ValueError(
                f"messages[{index}] is missing a string `role` (one of "
                f"{', '.join(ALLOWED_MESSAGE_ROLES)})."
            )
        if role not in ALLOWED_MESSAGE_ROLES:
            raise ValueError(
                f"messages[{index}] has role {role!r}; only {', '.join(ALLOWED_MESSAGE_ROLES)} "
                "are allowed (the server rejects others with MESSAGES_ROLE_INVALID: a system "
                "turn would override the flow's own prompt)."
            )
        model = entry if isinstance(entry, ChatMessage) else ChatMessage.model_validate(entry)
        wire.append(model.to_wire())
    _warn_if_messages_large(wire)
    return wire


def _dict_role(entry: object) -> object:
    if not isinstance(entry, Mapping):
        return None
    return cast("Mapping[str, Any]", entry).get(_ROLE)


def _warn_if_messages_large(wire: list[dict[str, Any]]) -> None:
    try:
        size = len(json.dumps(wire).encode("utf-8"))
    except (TypeError, ValueError):
        return
    if size > MESSAGES_WARN_BYTES:
        warnings.warn(
            f"messages serialise to about {size:,} bytes, close to the server's "
            f"{MESSAGES_MAX_BYTES:,}-byte cap (MESSAGES_TOO_LARGE, HTTP 413); consider compacting "
            "the conversation.",
            UserWarning,
            stacklevel=caller_stacklevel(),
        )


def as_list(items: Sequence[Any] | None, *, name: str) -> list[Any] | None:
    """A list argument as a list; a single dict or string is refused rather than split up."""
    if items is None:
        return None
    given: object = items
    if isinstance(given, (str, bytes, Mapping)):
        raise TypeError(f"{name} must be a list, got {type(given).__name__}")
    return list(items)
