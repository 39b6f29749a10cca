"""The clients: ``Noukai`` (blocking) and ``AsyncNoukai`` (asyncio).

A client resolves its configuration once, owns one pooled HTTP transport and the request context
(retry policy, log hook, default timeout), and hands out :class:`Flow` objects. Construction
performs no network I/O.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, TypeVar, overload

from typing_extensions import TypedDict

from noukai_sdk._closing import AsyncClosing, Closing
from noukai_sdk._core.config import ClientConfig, resolve_config
from noukai_sdk._core.link import AsyncLink, SyncLink
from noukai_sdk._core.log_hook import LogHook
from noukai_sdk._core.options import ClientOptions, check_options
from noukai_sdk._core.paths import FlowAddress, parse_flow_address, validate_session_header
from noukai_sdk._core.requesting import RequestContext
from noukai_sdk._core.retry import RetryPolicy
from noukai_sdk._transport import AsyncTransport, SyncTransport

if TYPE_CHECKING:
    import httpx
    import httpx2
    from typing_extensions import Unpack

    from noukai_sdk._core.http_types import TimeoutValue
    from noukai_sdk._flows import AsyncFlow, Flow
    from noukai_sdk._otel import OtelSettings


LinkT = TypeVar("LinkT", SyncLink, AsyncLink)


class TransportSettings(TypedDict):
    """What a client hands its transport besides the injected ``http_client``."""

    base_url: str
    api_key: str
    timeout: TimeoutValue
    max_concurrency: int


class _ClientCore:
    """Configuration and request context shared by both clients."""

    _config: ClientConfig
    _context: RequestContext
    _otel: OtelSettings | None

    def _setup(self, api_key: str | None, options: ClientOptions) -> TransportSettings:
        """Resolve the configuration and build the request context; the transport's settings."""
        check_options(f"{type(self).__name__}()", options, ClientOptions)
        org, project = options.get("org"), options.get("project")
        if (org is None) != (project is None):
            raise ValueError("`org` and `project` must be provided together, or both omitted.")
        self._config = resolve_config(
            api_key=api_key,
            env=options.get("env"),
            dev_port=options.get("dev_port"),
            timeout=options.get("timeout"),
            max_retries=options.get("max_retries"),
            max_concurrency=options.get("max_concurrency"),
        )
        self._default_org = org
        self._default_project = project
        session_id = options.get("session_id")
        self._session_id = None if session_id is None else validate_session_header(session_id)
        self._otel = None
        steps, payloads = options.get("otel_steps", False), options.get("otel_step_payloads", False)
        if options.get("otel", False) or steps or payloads:  # else OpenTelemetry is never imported
            from noukai_sdk._otel import OtelSettings

            self._otel = OtelSettings.create(
                tracer=options.get("tracer"), steps=steps, payloads=payloads
            )
        log = LogHook(
            options.get("log_handler"),
            payloads=options.get("log_payloads", False),
            secrets=(self._config.api_key,),
        )
        self._context = RequestContext(
            retry=RetryPolicy(max_retries=self._config.max_retries),
            log=log,
            timeout=self._config.timeout,
            secrets=(self._config.api_key,),
            propagate=None if self._otel is None else self._otel.propagation_headers,
        )
        return TransportSettings(
            base_url=self._config.base_url,
            api_key=self._config.api_key,
            timeout=self._config.timeout,
            max_concurrency=self._config.max_concurrency,
        )

    def _register(self, link: LinkT) -> LinkT:
        """``link``, remembered as its transport's (for the 0.2.0 ``transport=`` scope form)."""
        _LINK_OF_TRANSPORT[link.io] = link
        return link

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._config.base_url!r}, "
            f"default_org={self._default_org!r}, default_project={self._default_project!r})"
        )

    @property
    def default_org(self) -> str | None:
        return self._default_org

    @property
    def default_project(self) -> str | None:
        return self._default_project

    @property
    def session_id(self) -> str | None:
        """The client-level default session id (lowest precedence)."""
        return self._session_id

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def timeout(self) -> TimeoutValue:
        return self._config.timeout

    @property
    def max_retries(self) -> int:
        return self._config.max_retries

    @property
    def max_concurrency(self) -> int:
        """How many requests and open streams this client runs at once (the rest wait their turn)."""
        return self._config.max_concurrency

    def _address(self, slug: str | None, org: str | None, project: str | None) -> FlowAddress:
        return parse_flow_address(
            slug,
            org=org,
            project=project,
            default_org=self._default_org,
            default_project=self._default_project,
        )


class Noukai(Closing, _ClientCore):
    """The blocking Noukai client.

    ``api_key`` defaults to ``NOUKAI_API_KEY``; ``env="dev"`` (or ``NOUKAI_ENV=dev``) targets the
    local dev server at ``http://localhost:8080/api/v1`` (port override: ``dev_port=`` or
    ``NOUKAI_DEV_PORT``). ``http_client`` lets you supply a configured ``httpx.Client`` or
    ``httpx2.Client`` (proxies, TLS, limits; an httpx2 client, or an ``httpx2.Timeout`` as
    ``timeout=``, runs the client on httpx2); requests still go only to the Noukai base URL, and
    the client you pass is not closed by :meth:`close`. ``max_concurrency`` (default 64) caps the
    requests and open streams in flight; more wait for a free slot within their timeout. ``otel=True`` wraps every ``execute``/``execute_async`` in an
    OpenTelemetry span (``tracer=`` to choose the tracer); ``otel_steps`` adds a child span per
    block and ``otel_step_payloads`` puts bounded step inputs/outputs on them (may contain PII).
    """

    _link: SyncLink

    def __init__(
        self,
        api_key: str | None = None,
        *,
        http_client: httpx.Client | httpx2.Client | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        settings = self._setup(api_key, options)
        self._transport = SyncTransport(http_client=http_client, **settings)
        self._link = self._register(SyncLink(self._context, self._transport, self._session_id))

    def flow(
        self, slug: str | None = None, *, org: str | None = None, project: str | None = None
    ) -> Flow:
        """A flow by ``"slug"`` (with client defaults), ``"org/project/slug"`` or keywords."""
        if self._otel is not None:
            from noukai_sdk._otel import TracedFlow

            return TracedFlow(self._link, self._address(slug, org, project), self._otel)
        from noukai_sdk._flows import Flow

        return Flow(self._link, self._address(slug, org, project))

    def close(self) -> None:
        """Release the connection pool; safe to call more than once."""
        self._transport.close()


class AsyncNoukai(AsyncClosing, _ClientCore):
    """The asyncio Noukai client; same arguments as :class:`Noukai` (``http_client``: ``httpx.AsyncClient`` or ``httpx2.AsyncClient``)."""

    _link: AsyncLink

    def __init__(
        self,
        api_key: str | None = None,
        *,
        http_client: httpx.AsyncClient | httpx2.AsyncClient | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        settings = self._setup(api_key, options)
        self._transport = AsyncTransport(http_client=http_client, **settings)
        self._link = self._register(AsyncLink(self._context, self._transport, self._session_id))

    def flow(
        self, slug: str | None = None, *, org: str | None = None, project: str | None = None
    ) -> AsyncFlow:
        """A flow by ``"slug"`` (with client defaults), ``"org/project/slug"`` or keywords."""
        if self._otel is not None:
            from noukai_sdk._otel import AsyncTracedFlow

            return AsyncTracedFlow(self._link, self._address(slug, org, project), self._otel)
        from noukai_sdk._flows import AsyncFlow

        return AsyncFlow(self._link, self._address(slug, org, project))

    async def aclose(self) -> None:
        """Release the connection pool; safe to call more than once."""
        await self._transport.aclose()


@overload
def client_link(client: Noukai) -> SyncLink: ...
@overload
def client_link(client: AsyncNoukai) -> AsyncLink: ...
def client_link(client: Noukai | AsyncNoukai) -> SyncLink | AsyncLink:
    """What features (replay, the relay adapters, cassettes) use of ``client``."""
    return client._link


_LINK_OF_TRANSPORT: weakref.WeakKeyDictionary[object, SyncLink | AsyncLink] = (
    weakref.WeakKeyDictionary()
)


def link_of_transport(transport: object) -> SyncLink | AsyncLink | None:
    """The link of the client that owns ``transport`` (for the 0.2.0 ``transport=`` scope form)."""
    try:
        return _LINK_OF_TRANSPORT.get(transport)
    except TypeError:  # not weak-referenceable, so not one of ours
        return None
