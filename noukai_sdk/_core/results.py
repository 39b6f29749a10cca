"""Public result classes: the generated response models plus client-side behaviour.

``ExecuteResult``/``PausedResult``/``JobAccepted`` subclass the generated models (no field list is
written twice) and add what the wire does not carry: the resolved ``session_id``, the ``output``
alias, and ``resume()``/``resume_sync()`` on a paused result. :func:`parse_execute_response`
turns an execute/resume response body into one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, Union, cast

from pydantic import PrivateAttr, ValidationError

from noukai_sdk_generated.models import (
    ExecuteResult as _ExecuteResultModel,
)
from noukai_sdk_generated.models import (
    JobAccepted as _JobAcceptedModel,
)
from noukai_sdk_generated.models import (
    PausedResult as _PausedResultModel,
)

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from noukai_sdk._core.http_types import HttpResponse

ToolResults = Sequence[Mapping[str, Any]]


class ExecuteResult(_ExecuteResultModel):
    """A finished run (``status`` ``completed`` or ``failed``); ``output`` is ``result``."""

    _session_id: str | None = PrivateAttr(default=None)

    @property
    def output(self) -> Any:
        """Alias of ``result``: the flow's output."""
        return self.result

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
    resume: Callable[[PausedResult, ToolResults], Any]
    """Sync client: returns the next result. Async client: returns an awaitable of it."""


class PausedResult(_PausedResultModel):
    """A run paused for tool calls; answer ``tool_calls`` and call ``resume``/``resume_sync``."""

    _session_id: str | None = PrivateAttr(default=None)
    _binding: ResumeBinding | None = PrivateAttr(default=None)

    @property
    def session_id(self) -> str | None:
        """The session id this execution was sent with (``X-Session-Id``), if any."""
        return self._session_id

    @property
    def requires_tool_calls(self) -> Literal[True]:
        return True

    async def resume(self, tool_results: ToolResults) -> ExecuteOutcome:
        """Send the tool results (``AsyncNoukai``); returns the next result, possibly paused again."""
        binding = self._require_binding()
        if not binding.is_async:
            raise TypeError(
                "This result came from the sync Noukai client; call resume_sync(tool_results) instead."
            )
        outcome: ExecuteOutcome = await binding.resume(self, tool_results)
        return outcome

    def resume_sync(self, tool_results: ToolResults) -> ExecuteOutcome:
        """Send the tool results (``Noukai``); returns the next result, possibly paused again."""
        binding = self._require_binding()
        if binding.is_async:
            raise TypeError(
                "This result came from AsyncNoukai; use `await result.resume(tool_results)` instead."
            )
        outcome: ExecuteOutcome = binding.resume(self, tool_results)
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


ExecuteOutcome = Union[ExecuteResult, PausedResult]  # noqa: UP007 (runtime alias on 3.10)
"""What ``execute()`` returns without a ``tool_handler``."""


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
