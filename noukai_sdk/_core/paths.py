"""Flow addressing: slug forms, path-segment validation, version routing and request building.

``FlowAddress`` is the one place that turns ``org/project/slug`` plus a version into request
paths. Segments are validated (non-empty, no ``/``, not ``.``/``..``) and percent-encoded, so no
user value can change the route or the query string.

The generated request builders are imported when a request is first built, not with this
module, so ``import noukai_sdk`` does not load the generated models behind them.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from noukai_sdk._core.http_types import HttpRequest, Timeout

if TYPE_CHECKING:
    from noukai_sdk_generated._runtime import BuiltRequest

Version = Literal["production", "draft"] | int | None
"""What callers pass as ``version=``: omitted/"production", "draft" (= ``/v0``) or ``N >= 0``."""

FlowOperation = Literal["execute", "step", "jobs"]
Attempt = Literal["latest", "all"] | int


def validate_segment(value: object, *, name: str) -> str:
    """A path segment must be a non-empty string without ``/`` and not ``.`` or ``..``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    if "/" in value:
        raise ValueError(f"{name} must not contain '/': {value!r}")
    if value in (".", ".."):
        raise ValueError(f"{name} must not be {value!r}")
    return value


_HEADER_UNSAFE = re.compile(r"[^\t\x20-\x7e]")


def validate_session_header(session_id: object) -> str:
    """A session id is sent as the ``X-Session-Id`` header: a string of printable ASCII.

    Checked before any request so that a bad id is a clear error rather than an encoding or
    protocol failure inside the HTTP library (and can never inject another header line).
    """
    if not isinstance(session_id, str):
        raise TypeError(f"session_id must be a string, got {type(session_id).__name__}")
    bad = _HEADER_UNSAFE.search(session_id)
    if bad is not None:
        raise ValueError(
            "session_id is sent as the X-Session-Id header and must be printable ASCII; "
            f"got {bad.group()!r} at position {bad.start()} in {session_id!r}"
        )
    return session_id


def version_number(version: object) -> int | None:
    """Map a ``version=`` argument to the path's version number (``None`` = unversioned)."""
    if version is None or (isinstance(version, str) and version == "production"):
        return None
    if isinstance(version, str) and version == "draft":
        return 0
    if isinstance(version, int) and not isinstance(version, bool) and version >= 0:
        return version
    raise ValueError(
        f'Invalid version: {version!r}. Expected "draft", "production", or a non-negative integer.'
    )


def parse_flow_address(
    slug: str | None,
    *,
    org: str | None,
    project: str | None,
    default_org: str | None,
    default_project: str | None,
) -> FlowAddress:
    """Accept ``slug`` or ``org/project/slug`` (defaults fill the rest); validate every segment."""
    if slug is not None and "/" in slug and (org is not None or project is not None):
        raise ValueError("Pass either a slug string OR org/project/slug kwargs, not both.")
    if slug is not None and org is None and project is None:
        parts = slug.split("/")
        if len(parts) == 1:
            if not slug:
                raise ValueError("Slug string is empty.")
            if not default_org or not default_project:
                raise ValueError(
                    f"Slug {slug!r} requires the client to be constructed with org and project "
                    "defaults (Noukai(org=..., project=...)); otherwise pass a fully-qualified "
                    f"'org/project/{slug}' string."
                )
            return FlowAddress(default_org, default_project, slug)
        if len(parts) == 3 and all(parts):
            return FlowAddress(parts[0], parts[1], parts[2])
        raise ValueError(
            "Slug string must be either a single slug name (with client org/project defaults) "
            f"or 'org/project/slug'; got: {slug!r}"
        )
    if org is not None or project is not None:
        if not org or not project or not slug:
            raise ValueError("Kwargs form requires all of org=, project=, slug=.")
        return FlowAddress(org, project, slug)
    raise ValueError("Must provide either a slug string or org/project/slug kwargs.")


@dataclass(frozen=True, slots=True)
class FlowAddress:
    """A validated ``org/project/slug`` and the requests addressed to that flow.

    Paths come from the generated request builders (which percent-encode every segment); this
    class chooses the versioned or unversioned operation and turns the result into an
    :class:`HttpRequest`.
    """

    org: str
    project: str
    slug: str

    def __post_init__(self) -> None:
        validate_segment(self.org, name="org")
        validate_segment(self.project, name="project")
        validate_segment(self.slug, name="slug")

    def __str__(self) -> str:
        return f"{self.org}/{self.project}/{self.slug}"

    def operation_request(
        self,
        op: FlowOperation,
        *,
        version: int | None,
        body: Any,
        session_id: str | None,
        timeout: Timeout,
    ) -> HttpRequest:
        """The POST for ``execute``/``step``/``jobs`` (``version=None`` is the unversioned path).

        ``body`` is the wire-shaped JSON value (or a generated request model); ``session_id``
        (when not ``None``) is sent as ``X-Session-Id``. ``step`` requests are streaming.
        """
        key = (op, self.org, self.project, self.slug, version, session_id)
        shape = _REQUEST_SHAPES.get(key)
        if shape is None:
            if session_id is not None:
                validate_session_header(session_id)
            built = self._build_operation(op, version=version, body=body, session_id=session_id)
            _remember_shape(key, built)
            return _http_request(built, timeout=timeout, streaming=op == "step")
        method, url, headers = shape
        return HttpRequest(
            method,
            url,
            json=_AsWire(body).to_wire(),
            headers=headers,
            timeout=timeout,
            streaming=op == "step",
        )

    def _build_operation(
        self, op: FlowOperation, *, version: int | None, body: Any, session_id: str | None
    ) -> BuiltRequest:
        unversioned, versioned = _OPERATIONS[op]
        wire = _AsWire(body)
        if version is None:
            return _builder(unversioned)(
                org=self.org,
                project=self.project,
                slug=self.slug,
                body=wire,
                x_session_id=session_id,
            )
        return _builder(versioned)(
            org=self.org,
            project=self.project,
            slug=self.slug,
            version=version,
            body=wire,
            x_session_id=session_id,
        )

    def job_status_request(self, execution_id: str, *, timeout: Timeout) -> HttpRequest:
        """``GET …/jobs/{executionId}`` (never versioned)."""
        built = _builder("jobs.get_job")(
            org=self.org,
            project=self.project,
            slug=self.slug,
            execution_id=validate_segment(execution_id, name="execution_id"),
        )
        return _http_request(built, timeout=timeout)

    def run_trace_request(self, execution_id: str, *, timeout: Timeout) -> HttpRequest:
        """``GET …/runs/{executionId}/trace``."""
        built = _builder("runs.get_run_trace")(
            org=self.org,
            project=self.project,
            slug=self.slug,
            execution_id=validate_segment(execution_id, name="execution_id"),
        )
        return _http_request(built, timeout=timeout)

    def step_trace_request(
        self,
        execution_id: str,
        step_id: str,
        *,
        attempt: Attempt = "latest",
        loop_index: int | None = None,
        timeout: Timeout,
    ) -> HttpRequest:
        """``GET …/runs/{executionId}/steps/{stepId}/trace`` with its query."""
        built = _builder("runs.get_step_trace")(
            org=self.org,
            project=self.project,
            slug=self.slug,
            execution_id=validate_segment(execution_id, name="execution_id"),
            step_id=validate_segment(step_id, name="step_id"),
            attempt=_attempt_query(attempt),
            loop_index=None
            if loop_index is None
            else _non_negative_int(loop_index, name="loop_index"),
        )
        return _http_request(built, timeout=timeout)

    def live_trace_request(self, execution_id: str, *, timeout: Timeout) -> HttpRequest:
        """``GET …/runs/{executionId}/trace/stream`` (SSE)."""
        built = _builder("runs.stream_run_trace")(
            org=self.org,
            project=self.project,
            slug=self.slug,
            execution_id=validate_segment(execution_id, name="execution_id"),
        )
        return _http_request(built, timeout=timeout, streaming=True)


def session_request(session_id: str, *, timeout: Timeout = None) -> HttpRequest:
    """``GET /seq/sessions/{sessionId}`` (not flow-scoped, never versioned)."""
    built = _builder("sessions.get_session")(
        session_id=validate_segment(session_id, name="session_id")
    )
    return _http_request(built, timeout=timeout)


class _AsWire:
    """Lets a ready wire value pass through a generated builder, which calls ``body.to_wire()``."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def to_wire(self) -> Any:
        to_wire = getattr(self._value, "to_wire", None)
        return to_wire() if callable(to_wire) else self._value


_OPERATIONS: dict[str, tuple[str, str]] = {
    "execute": ("flows.execute_flow", "flows.execute_flow_version"),
    "step": ("flows.step_flow", "flows.step_flow_version"),
    "jobs": ("jobs.submit_job", "jobs.submit_job_version"),
}
"""Operation -> generated endpoint modules (unversioned, versioned) under ``noukai_sdk_generated.api``."""


@cache
def _builder(endpoint: str) -> Callable[..., BuiltRequest]:
    """The ``build_request`` of generated endpoint module ``endpoint`` (imported on first use)."""
    module = importlib.import_module(f"noukai_sdk_generated.api.{endpoint}")
    builder: Callable[..., BuiltRequest] = module.build_request
    return builder


_ShapeKey = tuple[str, str, str, str, "int | None", "str | None"]
_Shape = tuple[Literal["GET", "POST"], str, Mapping[str, str]]

_REQUEST_SHAPES: dict[_ShapeKey, _Shape] = {}
"""Method, path and headers the generated builder produced for a flow operation, by
(operation, org, project, slug, version, session id): they depend on nothing else, so later calls
reuse them and only serialise the body. Bounded: cleared when full."""

_REQUEST_SHAPES_SIZE = 256


def _remember_shape(key: _ShapeKey, built: BuiltRequest) -> None:
    if "params" in built:
        return
    if len(_REQUEST_SHAPES) >= _REQUEST_SHAPES_SIZE:
        _REQUEST_SHAPES.clear()
    _REQUEST_SHAPES[key] = (built["method"], built["url"], built.get("headers", _NO_HEADERS))


def _http_request(built: BuiltRequest, *, timeout: Timeout, streaming: bool = False) -> HttpRequest:
    return HttpRequest(
        built["method"],
        built["url"],
        json=built.get("json"),
        params=built.get("params"),
        headers=built.get("headers", _NO_HEADERS),
        timeout=timeout,
        streaming=streaming,
    )


def _attempt_query(attempt: object) -> int | Literal["all"] | None:
    if attempt == "latest" and isinstance(attempt, str):
        return None
    if attempt == "all" and isinstance(attempt, str):
        return "all"
    if isinstance(attempt, int) and not isinstance(attempt, bool) and attempt >= 1:
        return attempt
    raise ValueError(f'attempt must be "latest", "all" or an integer >= 1, got {attempt!r}')


_NO_HEADERS: dict[str, str] = {}


def _non_negative_int(value: object, *, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value
