"""Public result classes: the generated response models plus client-side behaviour.

``ExecuteResult``/``PausedResult``/``JobAccepted``/``JobStatus``/``Trace`` subclass the generated
models (no field list is written twice) and add what the wire does not carry: the resolved
``session_id``, the ``output`` alias, ``resume()``/``resume_sync()`` on a paused result, the
validated ``parsed`` output of a call made with ``output_type=``, and usage.
:func:`parse_execute_response` turns an execute/resume response body into one of them.

``ExecuteResult``, ``PausedResult`` and ``JobStatus`` are generic in the ``output_type`` (``None``
when none was given) only for type checkers: instances are always of the plain class, so ``==``,
``model_dump()``, repr and pickling are those of the generated model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, Literal, Union, cast

from pydantic import PrivateAttr, ValidationError
from typing_extensions import TypeVar

from noukai_sdk._core.usage import Usage
from noukai_sdk_generated.models import (
    ExecuteResult as _ExecuteResultModel,
)
from noukai_sdk_generated.models import (
    JobAccepted as _JobAcceptedModel,
)
from noukai_sdk_generated.models import (
    JobStatus as _JobStatusModel,
)
from noukai_sdk_generated.models import (
    PausedResult as _PausedResultModel,
)
from noukai_sdk_generated.models import (
    Trace as _TraceModel,
)

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from noukai_sdk._core.http_types import HttpResponse

ToolResults = Sequence[Mapping[str, Any]]

OutputT = TypeVar("OutputT", default=None)
"""The ``output_type`` a call was made with; ``None`` without one (then ``parsed`` is ``None``)."""


class ExecuteResult(_ExecuteResultModel, Generic[OutputT]):
    """A finished run (``status`` ``completed`` or ``failed``); ``output`` is ``result``."""

    _session_id: str | None = PrivateAttr(default=None)
    _parsed: Any = PrivateAttr(default=None)
    _usage: Usage | None = PrivateAttr(default=None)

    @property
    def output(self) -> Any:
        """Alias of ``result``: the flow's output."""
        return self.result

    @property
    def parsed(self) -> OutputT:
        """The output validated as the call's ``output_type``; ``None`` without one or when failed."""
        parsed: OutputT = self._parsed
        return parsed

    @property
    def usage(self) -> Usage | None:
        """Tokens and cost of the run, with ``usage=True`` on a completed run; else ``None``."""
        return self._usage

    @property
    def session_id(self) -> str | None:
        """The session id this execution was sent with (``X-Session-Id``), if any."""
        return self._session_id

    @property
    def requires_tool_calls(self) -> Literal[False]:
        return False


@dataclass(frozen=True, slots=True)
class ResumeBinding:
    """How a paused result continues: which client kind, and the function that sends a resume."""

    is_async: bool
    resume: Callable[[PausedResult[Any], ToolResults], Any]
    """Sync client: returns the next result. Async client: returns an awaitable of it."""


class PausedResult(_PausedResultModel, Generic[OutputT]):
    """A run paused for tool calls; answer ``tool_calls`` and call ``resume``/``resume_sync``.

    The resume keeps the call's ``output_type`` and ``usage``, so the final result is parsed.
    """

    _session_id: str | None = PrivateAttr(default=None)
    _binding: ResumeBinding | None = PrivateAttr(default=None)

    @property
    def session_id(self) -> str | None:
        """The session id this execution was sent with (``X-Session-Id``), if any."""
        return self._session_id

    @property
    def requires_tool_calls(self) -> Literal[True]:
        return True

    async def resume(
        self, tool_results: ToolResults
    ) -> ExecuteResult[OutputT] | PausedResult[OutputT]:
        """Send the tool results (``AsyncNoukai``); returns the next result, possibly paused again."""
        binding = self._require_binding()
        if not binding.is_async:
            raise TypeError(
                "This result came from the sync Noukai client; call resume_sync(tool_results) instead."
            )
        outcome: ExecuteResult[OutputT] | PausedResult[OutputT] = await binding.resume(
            self, tool_results
        )
        return outcome

    def resume_sync(
        self, tool_results: ToolResults
    ) -> ExecuteResult[OutputT] | PausedResult[OutputT]:
        """Send the tool results (``Noukai``); returns the next result, possibly paused again."""
        binding = self._require_binding()
        if binding.is_async:
            raise TypeError(
                "This result came from AsyncNoukai; use `await result.resume(tool_results)` instead."
            )
        outcome: ExecuteResult[OutputT] | PausedResult[OutputT] = binding.resume(self, tool_results)
        return outcome

    def _require_binding(self) -> ResumeBinding:
        if self._binding is None:
            raise RuntimeError(
                "This PausedResult was manually constructed and is not bound to a client; only "
                "results returned by execute() can be resumed."
            )
        return self._binding


class JobAccepted(_JobAcceptedModel):
    """The server's answer to a job submission."""

    _session_id: str | None = PrivateAttr(default=None)

    @property
    def session_id(self) -> str | None:
        return self._session_id


class JobStatus(_JobStatusModel, Generic[OutputT]):
    """A queued execution's state; ``parsed`` is the validated result of a completed job."""

    _parsed: Any = PrivateAttr(default=None)

    @property
    def parsed(self) -> OutputT:
        """The result validated as ``output_type`` (``poll``/``wait``); ``None`` without one."""
        parsed: OutputT = self._parsed
        return parsed


class Trace(_TraceModel):
    """A run and the latest attempt of each of its steps; ``usage`` sums their tokens and cost."""

    @property
    def usage(self) -> Usage:
        """Tokens and cost summed over the steps (steps that report none count as zero)."""
        return Usage.sum_steps(self.steps)


ExecuteOutcome = Union[ExecuteResult, PausedResult]  # noqa: UP007 (runtime alias on 3.10)
"""What ``execute()`` returns without a ``tool_handler``."""


def attach_parsed(result: ExecuteResult[Any] | JobStatus[Any], output_type: Any) -> None:
    """Validate a completed result's output into ``parsed``; a failed run is never validated."""
    if output_type is None or result.status != "completed":
        return
    from noukai_sdk._core.output import parse_output

    result._parsed = parse_output(output_type, result.result, execution_id=result.execution_id)


def parse_execute_response(response: HttpResponse, *, session_id: str | None) -> ExecuteOutcome:
    """An ``ExecuteResult`` or ``PausedResult`` by ``status``; anything else is a validation error.

    The body is validated straight from bytes (one pass in pydantic-core, the model chosen by the
    ``status`` tag); only a body that fails there takes the slower path that explains the problem.
    """
    try:
        outcome = _execute_response_adapter().validate_json(response.content)
    except ValidationError:
        outcome = _parse_or_explain(response)
    if session_id is not None:
        outcome._session_id = session_id
    return outcome


@cache
def _execute_response_adapter() -> TypeAdapter[ExecuteOutcome]:
    from typing import Annotated

    from pydantic import Field, TypeAdapter

    tagged = Annotated[Union[ExecuteResult, PausedResult], Field(discriminator="status")]  # noqa: UP007
    return TypeAdapter(tagged)


def _parse_or_explain(response: HttpResponse) -> ExecuteOutcome:
    """Parse as JSON, pick the model by the discriminator, validate; raise a readable error."""
    from noukai_sdk._core.requesting import parse_json, response_validation_error
    from noukai_sdk_generated.unions import EXECUTE_RESPONSE_DISCRIMINATOR, EXECUTE_RESPONSE_MODELS

    data = parse_json(response, what="execute")
    if not isinstance(data, dict):
        raise response_validation_error(response, what="execute", problem="not a JSON object")
    fields = cast("dict[str, Any]", data)
    tag = fields.get(EXECUTE_RESPONSE_DISCRIMINATOR)
    paused = isinstance(tag, str) and EXECUTE_RESPONSE_MODELS.get(tag) is _PausedResultModel
    model = PausedResult if paused else ExecuteResult
    try:
        outcome: ExecuteOutcome = model.model_validate(data)
    except ValidationError as exc:
        problem = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in exc.errors(include_url=False)[:3]
        )
        raise response_validation_error(response, what="execute", problem=problem) from exc
    return outcome
