"""Flow definitions: YAML files under a flows directory, addressed by their path.

``<dir>/<org>/<project>/<slug>.yaml`` defines the flow ``org/project/slug``. The schema is
documented in this package's README; :func:`load_catalog` reads every file once at start-up and
rejects a malformed one with a message naming the file and the field.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

BlockKind = Literal["llm", "tool", "structured", "stream", "fail"]
CaptureMode = Literal["full", "redacted", "metadata_only", "off"]

_BLOCK_KINDS: tuple[BlockKind, ...] = ("llm", "tool", "structured", "stream", "fail")
_CAPTURE_MODES: tuple[CaptureMode, ...] = ("full", "redacted", "metadata_only", "off")
_FLOW_ID_NAMESPACE = uuid.UUID("6b1c1f55-3a55-4c3e-9d0e-2f4f6f0d0a11")
DEMO_FLOWS_DIR = Path(__file__).parent / "flows"
DEFAULT_REDACTED_KEYS = ("password", "api_key", "secret", "token")


class FlowSpecError(ValueError):
    """A flow file that does not follow the schema."""


@dataclass(frozen=True, slots=True)
class BlockSpec:
    """One block (step) of a flow; which fields matter depends on ``kind``."""

    id: str
    kind: BlockKind
    name: str
    template: str = "{message}"
    model: str = "noukai/dev-echo"
    latency_ms: int | None = None
    latency_param: str | None = None
    loop: int = 1
    tool: str | None = None
    argument: str = "query"
    choices: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=lambda: {})
    stream: bool = False
    code: str = "FLOW_EXECUTION_ERROR"
    message: str = "The block failed."
    http_status: int | None = None

    @property
    def streams(self) -> bool:
        """Whether the block sends its output as ``{"delta": ...}`` text chunks while it runs
        (a ``stream`` block its text, a ``structured`` block with ``stream: true`` its JSON)."""
        return self.kind == "stream" or self.stream


@dataclass(frozen=True, slots=True)
class FlowSpec:
    """A flow: its address, its draft blocks, and the published versions."""

    org: str
    project: str
    slug: str
    name: str
    draft: tuple[BlockSpec, ...]
    versions: Mapping[int, tuple[BlockSpec, ...]]
    capture: CaptureMode = "full"
    max_tool_iterations: int = 10
    redact: tuple[str, ...] = DEFAULT_REDACTED_KEYS

    @property
    def key(self) -> str:
        return f"{self.org}/{self.project}/{self.slug}"

    @property
    def project_key(self) -> str:
        return f"{self.org}/{self.project}"

    @property
    def flow_id(self) -> str:
        return str(uuid.uuid5(_FLOW_ID_NAMESPACE, self.key))

    def resolve_version(self, requested: int | None) -> int | None:
        """The version a request runs: ``None`` = latest published, else the draft (0).

        Returns ``None`` when ``requested`` names a version that does not exist.
        """
        if requested is None:
            return max(self.versions) if self.versions else 0
        if requested == 0 or requested in self.versions:
            return requested
        return None

    def blocks(self, version: int) -> tuple[BlockSpec, ...]:
        return self.draft if version == 0 else self.versions[version]


@dataclass
class FlowCatalog:
    """Every flow the server knows, by ``org/project/slug``."""

    flows: dict[str, FlowSpec] = field(default_factory=lambda: {})

    def find(self, org: str, project: str, slug: str) -> FlowSpec | None:
        return self.flows.get(f"{org}/{project}/{slug}")


def load_catalog(directories: Iterable[Path]) -> FlowCatalog:
    """Read the demo flows and then every ``*.yaml`` under ``directories`` (later files win)."""
    import yaml

    catalog = FlowCatalog()
    for directory in (DEMO_FLOWS_DIR, *directories):
        if not directory.is_dir():
            raise FlowSpecError(f"flows directory {directory} does not exist")
        for path in sorted(directory.rglob("*.yaml")):
            parts = path.relative_to(directory).with_suffix("").parts
            if len(parts) != 3:
                raise FlowSpecError(
                    f"{path}: expected <org>/<project>/<slug>.yaml under {directory}"
                )
            with path.open(encoding="utf-8") as handle:
                document = yaml.safe_load(handle)
            flow = parse_flow(
                document, org=parts[0], project=parts[1], slug=parts[2], origin=str(path)
            )
            catalog.flows[flow.key] = flow
    return catalog


def parse_flow(document: object, *, org: str, project: str, slug: str, origin: str) -> FlowSpec:
    """Build a :class:`FlowSpec` from a parsed YAML document."""
    spec = _mapping(document, origin)
    draft = _blocks(spec.get("blocks"), f"{origin}: blocks")
    versions: dict[int, tuple[BlockSpec, ...]] = {}
    for number in _list(spec.get("published", []), f"{origin}: published"):
        versions[_positive_int(number, f"{origin}: published")] = draft
    for number, blocks in _mapping(spec.get("versions", {}), f"{origin}: versions").items():
        versions[_positive_int(number, f"{origin}: versions")] = _blocks(
            blocks, f"{origin}: versions.{number}"
        )
    capture = spec.get("capture", "full")
    if capture not in _CAPTURE_MODES:
        raise FlowSpecError(f"{origin}: capture must be one of {', '.join(_CAPTURE_MODES)}")
    return FlowSpec(
        org=org,
        project=project,
        slug=slug,
        name=str(spec.get("name", slug)),
        draft=draft,
        versions=versions,
        capture=capture,
        max_tool_iterations=int(spec.get("max_tool_iterations", 10)),
        redact=tuple(str(k) for k in _list(spec.get("redact", []), f"{origin}: redact"))
        or DEFAULT_REDACTED_KEYS,
    )


def _blocks(value: object, where: str) -> tuple[BlockSpec, ...]:
    items = _list(value, where)
    if not items:
        raise FlowSpecError(f"{where}: a flow needs at least one block")
    blocks = tuple(_block(item, f"{where}[{index}]") for index, item in enumerate(items))
    ids = [block.id for block in blocks]
    if len(set(ids)) != len(ids):
        raise FlowSpecError(f"{where}: block ids must be unique")
    return blocks


def _block(value: object, where: str) -> BlockSpec:
    spec = _mapping(value, where)
    kind = spec.get("type")
    if kind not in _BLOCK_KINDS:
        raise FlowSpecError(f"{where}: type must be one of {', '.join(_BLOCK_KINDS)}")
    block_id = spec.get("id")
    if not isinstance(block_id, str) or not block_id or "/" in block_id:
        raise FlowSpecError(f"{where}: id must be a non-empty string without '/'")
    if kind == "tool" and not isinstance(spec.get("tool"), str):
        raise FlowSpecError(f"{where}: a tool block needs `tool: <function name>`")
    stream = spec.get("stream", False)
    if not isinstance(stream, bool):
        raise FlowSpecError(f"{where}: stream must be true or false")
    if stream and kind != "structured":
        raise FlowSpecError(
            f"{where}: `stream: true` is for structured blocks (a text block streams as type: stream)"
        )
    latency = spec.get("latency_ms")
    return BlockSpec(
        id=block_id,
        kind=kind,
        name=str(spec.get("name", block_id)),
        template=str(spec.get("template", "{message}")),
        model=str(spec.get("model", "noukai/dev-echo")),
        latency_ms=None if latency is None else int(latency),
        latency_param=None if spec.get("latency_param") is None else str(spec["latency_param"]),
        loop=_positive_int(spec.get("loop", 1), f"{where}: loop"),
        tool=None if spec.get("tool") is None else str(spec["tool"]),
        argument=str(spec.get("argument", "query")),
        choices=tuple(str(c) for c in _list(spec.get("choices", []), f"{where}: choices")),
        fields={str(k): str(v) for k, v in _mapping(spec.get("fields", {}), where).items()},
        stream=stream,
        code=str(spec.get("code", "FLOW_EXECUTION_ERROR")),
        message=str(spec.get("message", "The block failed.")),
        http_status=None if spec.get("http_status") is None else int(spec["http_status"]),
    )


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FlowSpecError(f"{where}: expected a mapping")
    entries: dict[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
    return {str(k): v for k, v in entries.items()}


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise FlowSpecError(f"{where}: expected a list")
    items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
    return items


def _positive_int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise FlowSpecError(f"{where}: expected a positive integer, got {value!r}")
    number = int(value)
    if number < 1:
        raise FlowSpecError(f"{where}: expected a positive integer, got {value!r}")
    return number
