"""Flow addressing: slug forms, path-segment validation, version routing and request building.

``FlowAddress`` is the one place that turns ``org/project/slug`` plus a version into request
paths. Segments are validated (non-empty, no ``/``, not ``.``/``..``) and percent-encoded, so no
user value can change the route or the query string (CONTRACT W11).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Union
from urllib.parse import quote

from noukai_sdk._constants import SESSION_ID_HEADER
from noukai_sdk._http_types import HttpRequest

if TYPE_CHECKING:
    import httpx

Version = Literal["production", "draft"] | int | None
"""What callers pass as ``version=``: omitted/"production", "draft" (= ``/v0``) or ``N >= 0``."""

FlowOperation = Literal["execute", "step", "jobs"]
Attempt = Literal["latest", "all"] | int
RequestTimeout = Union[float, "httpx.Timeout", None]


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


def encode_segment(value: str) -> str:
    """Percent-encode one path segment (everything but unreserved characters)."""
    return quote(value, safe="")


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
    """Apply CONTRACT §1.6's slug forms, then validate every segment."""
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
    """A validated ``org/project/slug`` and the requests addressed to that flow."""

    org: str
    project: str
    slug: str

    def __post_init__(self) -> None:
        validate_segment(self.org, name="org")
        validate_segment(self.project, name="project")
        validate_segment(self.slug, name="slug")

    def __str__(self) -> str:
        return f"{self.org}/{self.project}/{self.slug}"

    @property
    def base_path(self) -> str:
        parts = (self.org, self.project, self.slug)
        return "/seq/" + "/".join(encode_segment(p) for p in parts)

    def operation_request(
        self,
        op: FlowOperation,
        *,
        version: int | None,
        body: Any,
        session_id: str | None,
        timeout: RequestTimeout,
    ) -> HttpRequest:
        """The POST for ``execute``/``step``/``jobs`` (``version=None`` is the unversioned path).

        ``body`` is the wire-shaped JSON value; ``session_id`` (when not ``None``) is sent as
        ``X-Session-Id``. ``step`` requests are streaming.
        """
        versioned = self.base_path if version is None else f"{self.base_path}/v{version}"
        headers: Mapping[str, str] = {} if session_id is None else {SESSION_ID_HEADER: session_id}
        return HttpRequest(
            "POST",
            f"{versioned}/{op}",
            json=body,
            headers=headers,
            timeout=timeout,
            streaming=op == "step",
        )

    def job_status_request(self, execution_id: str, *, timeout: RequestTimeout) -> HttpRequest:
        """``GET …/jobs/{executionId}`` (never versioned)."""
        job = encode_segment(validate_segment(execution_id, name="execution_id"))
        return HttpRequest("GET", f"{self.base_path}/jobs/{job}", timeout=timeout)

    def run_trace_request(self, execution_id: str, *, timeout: RequestTimeout) -> HttpRequest:
        """``GET …/runs/{executionId}/trace``."""
        return HttpRequest("GET", f"{self._run_path(execution_id)}/trace", timeout=timeout)

    def step_trace_request(
        self,
        execution_id: str,
        step_id: str,
        *,
        attempt: Attempt = "latest",
        loop_index: int | None = None,
        timeout: RequestTimeout,
    ) -> HttpRequest:
        """``GET …/runs/{executionId}/steps/{stepId}/trace`` with its query (CONTRACT §3.6)."""
        step = encode_segment(validate_segment(step_id, name="step_id"))
        params: dict[str, str] = {}
        if attempt == "all":
            params["attempt"] = "all"
        elif isinstance(attempt, int) and not isinstance(attempt, bool):
            if attempt < 1:
                raise ValueError(f"attempt must be >= 1, got {attempt}")
            params["attempt"] = str(attempt)
        elif attempt != "latest":
            raise ValueError(f'attempt must be "latest", "all" or an integer, got {attempt!r}')
        if loop_index is not None:
            params["loop_index"] = str(_non_negative_int(loop_index, name="loop_index"))
        path = f"{self._run_path(execution_id)}/steps/{step}/trace"
        return HttpRequest("GET", path, params=params or None, timeout=timeout)

    def live_trace_request(self, execution_id: str, *, timeout: RequestTimeout) -> HttpRequest:
        """``GET …/runs/{executionId}/trace/stream`` (SSE)."""
        path = f"{self._run_path(execution_id)}/trace/stream"
        return HttpRequest("GET", path, timeout=timeout, streaming=True)

    def _run_path(self, execution_id: str) -> str:
        run = encode_segment(validate_segment(execution_id, name="execution_id"))
        return f"{self.base_path}/runs/{run}"


def session_request(session_id: str, *, timeout: RequestTimeout = None) -> HttpRequest:
    """``GET /seq/sessions/{sessionId}`` (not flow-scoped, never versioned)."""
    session = encode_segment(validate_segment(session_id, name="session_id"))
    return HttpRequest("GET", f"/seq/sessions/{session}", timeout=timeout)


def _non_negative_int(value: object, *, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value
