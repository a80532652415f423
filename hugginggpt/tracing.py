"""Optional OpenTelemetry tracing: one call in a service's __main__ traces every gRPC call in and out.

Usage in a service's ``__main__`` (before any server or channel is created)::

    tracing = hugginggpt.tracing.setup("planner")   # no-op unless HUGGINGGPT_OTEL_ENABLED=true
    spec.on_stop.append(tracing.shutdown)

With tracing on, ``grpc.aio.server`` and ``grpc.aio.*_channel`` are instrumented, so every inbound RPC
continues the caller's trace (W3C ``traceparent`` in gRPC metadata) and every outbound call carries it on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from hugginggpt.settings import SettingsError, env_bool, env_float, env_str

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install -r requirements/extra-gateway.txt"


@dataclass(frozen=True)
class TracingSettings:
    """How traces are produced and where they go."""

    enabled: bool
    exporter: str  # "otlp", "console" or "none"
    endpoint: str
    sample_ratio: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TracingSettings:
        exporter = env_str("HUGGINGGPT_OTEL_EXPORTER", "otlp", env).lower()
        if exporter not in {"otlp", "console", "none"}:
            raise SettingsError(f"HUGGINGGPT_OTEL_EXPORTER must be otlp, console or none, got {exporter!r}")
        ratio = env_float("HUGGINGGPT_OTEL_SAMPLE_RATIO", 1.0, env)
        if not 0.0 <= ratio <= 1.0:
            raise SettingsError(f"HUGGINGGPT_OTEL_SAMPLE_RATIO must be between 0 and 1, got {ratio}")
        return cls(
            enabled=env_bool("HUGGINGGPT_OTEL_ENABLED", False, env),
            exporter=exporter,
            endpoint=env_str("HUGGINGGPT_OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317", env),
            sample_ratio=ratio,
        )


class Tracing:
    """A tracer provider plus the gRPC instrumentation it switched on; shutdown() undoes both."""

    def __init__(self, provider: Any | None, instrumentors: Iterable[Any] = ()) -> None:
        self.provider = provider
        self._instrumentors = list(instrumentors)

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    def tracer(self, name: str) -> trace.Tracer:
        """A tracer of this provider (a no-op tracer when tracing is off)."""
        if self.provider is None:
            return trace.NoOpTracer()
        return self.provider.get_tracer(name)

    async def shutdown(self) -> None:
        """Flushes pending spans and removes the gRPC instrumentation."""
        for instrumentor in self._instrumentors:
            instrumentor.uninstrument()
        self._instrumentors.clear()
        if self.provider is not None:
            self.provider.force_flush()
            self.provider.shutdown()


def _exporter(settings: TracingSettings) -> Any:
    if settings.exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if settings.exporter == "none":
        return None
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise SettingsError(
            f"OTLP export needs opentelemetry-exporter-otlp-proto-grpc: {INSTALL_HINT}"
        ) from exc
    return OTLPSpanExporter(endpoint=settings.endpoint, insecure=settings.endpoint.startswith("http://"))


def setup(
    service: str,
    *,
    env: Mapping[str, str] | None = None,
    exporter: Any | None = None,
    set_global: bool = True,
) -> Tracing:
    """Switches tracing on when configured (or when an exporter is given, as tests do).

    Args:
        service: the service.name resource attribute, for example "gateway".
        exporter: a span exporter to use instead of the configured one; forces tracing on and exports
            synchronously (tests pass an InMemorySpanExporter).
        set_global: also install the provider as the process's global one (production).
    """
    settings = TracingSettings.from_env(env)
    if exporter is None and not settings.enabled:
        return Tracing(None)
    try:
        from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient, GrpcAioInstrumentorServer
        from opentelemetry.instrumentation.grpc.filters import health_check, negate
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
    except ImportError as exc:
        raise SettingsError(f"tracing needs opentelemetry-instrumentation-grpc: {INSTALL_HINT}") from exc
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"hugginggpt-{service}"}),
        sampler=ParentBased(TraceIdRatioBased(settings.sample_ratio)),
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif (configured := _exporter(settings)) is not None:
        provider.add_span_processor(BatchSpanProcessor(configured))
    if set_global:
        trace.set_tracer_provider(provider)
    not_health = negate(health_check())
    server = GrpcAioInstrumentorServer(filter_=not_health)
    client = GrpcAioInstrumentorClient(filter_=not_health)
    server.instrument(tracer_provider=provider)
    client.instrument(tracer_provider=provider)
    logger.info("tracing on: service %s, exporter %s", service, "given" if exporter else settings.exporter)
    return Tracing(provider, [server, client])


def inject_metadata(metadata: Iterable[tuple[str, str]] = ()) -> tuple[tuple[str, str], ...]:
    """Metadata plus the current trace context, for a channel created without the instrumentation."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return (*tuple(metadata), *carrier.items())


def extract_context(metadata: Iterable[tuple[str, Any]]) -> otel_context.Context:
    """The trace context a caller sent in gRPC metadata (for servers built without the instrumentation)."""
    carrier = {key: value for key, value in metadata if isinstance(value, str)}
    return propagate.extract(carrier)
