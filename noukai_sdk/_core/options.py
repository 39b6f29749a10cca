"""The keyword options of the public run methods, each named once, as TypedDicts.

The shells take them as ``**options: Unpack[...]`` (type checkers and IDEs see every name and
type) and hand them unchanged to a call object's ``from_args``, which holds the defaults and
the checks. :func:`check_options` refuses a keyword the method does not take, as a plain
signature would, because ``from_args`` accepts the union of what several methods take.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from typing_extensions import TypedDict

if TYPE_CHECKING:  # annotations only: the clients import this module before any model
    from noukai_sdk._core.execute import MessageInput
    from noukai_sdk._core.http_types import Timeout, TimeoutValue
    from noukai_sdk._core.log_hook import LogHandler
    from noukai_sdk._core.paths import Version

HandlerT = TypeVar("HandlerT")


class _InputOptions(TypedDict, total=False):
    parameters: Mapping[str, Any] | None
    trace: bool


class _ToolOptions(TypedDict, total=False):
    tools: Sequence[Any] | None
    tool_choice: Any
    max_tool_rounds: int | None


class RelayExecuteOptions(_InputOptions, _ToolOptions, total=False):
    """The keyword arguments of a relay flow's ``execute()`` that do not change its return type."""

    messages: Sequence[MessageInput] | None


class JobOptions(_InputOptions, total=False):
    """The keyword arguments of ``execute_async()``; every other run method takes them too."""

    block_overrides: Mapping[str, Any] | None
    version: Version
    timeout: Timeout
    session_id: str | None


class RunOptions(JobOptions, _ToolOptions, total=False):
    """What every method that runs the flow in this process takes."""

    attachments: Sequence[Any] | None


class ExecuteOptions(RunOptions, total=False):
    """The keyword arguments of ``execute()`` that do not change its return type."""

    messages: Sequence[MessageInput] | None
    usage: bool


class StepOptions(RunOptions, Generic[HandlerT], total=False):
    """The keyword arguments of ``steps()``; ``HandlerT`` is the client kind's tool handler."""

    input_overrides: Mapping[str, Any] | None
    tool_handler: HandlerT | None
    auto_resume: int


class EventOptions(StepOptions[HandlerT], total=False):
    """The keyword arguments of ``events()``."""

    run_remaining: bool


class StreamOptions(StepOptions[HandlerT], total=False):
    """The keyword arguments of ``stream_text()`` and ``stream_object()``."""

    step: str | None


class ClientOptions(TypedDict, total=False):
    """The keyword arguments of ``Noukai()``/``AsyncNoukai()`` besides ``http_client``."""

    env: str | None
    org: str | None
    project: str | None
    session_id: str | None
    timeout: TimeoutValue | None
    max_retries: int | None
    max_concurrency: int | None
    log_handler: LogHandler | None
    log_payloads: bool
    dev_port: int | None
    otel: bool
    tracer: Any
    otel_steps: bool
    otel_step_payloads: bool


def check_options(entry: str, options: Mapping[str, object], accepted: type[Any]) -> None:
    """Raise the ``TypeError`` a signature would for a keyword the TypedDict ``accepted`` lacks."""
    names = _NAMES.get(accepted)
    if names is None:
        names = _NAMES[accepted] = accepted.__required_keys__ | accepted.__optional_keys__
    if options.keys() <= names:
        return
    unknown = min(options.keys() - names)
    raise TypeError(f"{entry} got an unexpected keyword argument {unknown!r}")


_NAMES: dict[type[Any], frozenset[str]] = {}
