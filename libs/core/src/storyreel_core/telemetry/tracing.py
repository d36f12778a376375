"""The process's tracer provider: installed once, fed by the exporters the settings ask for.

OpenTelemetry lets a process set its global tracer provider only once, yet one process may host
several services (embedded mode) and a test session several test modules. So the first call
creates and installs the provider (its `service.name` is fixed then: one process, one service
name), and every call, first or later, adds the exporters it names that are not already there.
Instrumentations created before that (interceptors, the FastAPI middleware) hold proxy tracers
that start recording as soon as the provider is installed.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)

from storyreel_core.logging import get_logger
from storyreel_core.settings import Settings

log = get_logger("storyreel.telemetry")

OTLP_TRACES_PATH = "/v1/traces"

_provider: TracerProvider | None = None
_installed: set[str] = set()


def otlp_traces_url(endpoint: str) -> str:
    """The collector's OTLP/HTTP base URL (as OTEL_EXPORTER_OTLP_ENDPOINT) → its traces URL."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(OTLP_TRACES_PATH) else endpoint + OTLP_TRACES_PATH


def _otlp_processor(endpoint: str) -> SpanProcessor:
    # Imported here: the exporter (and its HTTP stack) loads only where spans leave the process.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_traces_url(endpoint)))


def _wanted(
    settings: Settings, exporter: SpanExporter | None
) -> dict[str, Callable[[], SpanProcessor]]:
    """The span processors these settings ask for, keyed so a repeated call adds none twice."""
    wanted: dict[str, Callable[[], SpanProcessor]] = {}
    if exporter is not None:
        wanted[f"exporter:{id(exporter)}"] = lambda: SimpleSpanProcessor(exporter)
    if settings.tracing == "off":
        return wanted
    endpoint = settings.otlp_endpoint
    if endpoint:
        wanted[f"otlp:{endpoint}"] = lambda: _otlp_processor(endpoint)
    if settings.tracing == "console":
        wanted["console"] = lambda: BatchSpanProcessor(ConsoleSpanExporter())
    return wanted


def _ensure_provider(service_name: str) -> TracerProvider:
    global _provider
    if _provider is None:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            _provider = current  # someone (a test harness, say) installed one first: share it
        else:
            _provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
            trace.set_tracer_provider(_provider)
            log.info("tracing.enabled", service_name=service_name)
    return _provider


def configure_tracing(
    settings: Settings, service_name: str, *, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Turn tracing on when the settings (or a caller's `exporter`) give spans somewhere to go.

    `STORYREEL_OTLP_ENDPOINT` → OTLP/HTTP export in batches; `STORYREEL_TRACING=console` →
    spans printed; `STORYREEL_TRACING=off` → neither. `exporter` is for tests (an in-memory
    exporter, exported synchronously). Returns the provider, or None while tracing stays off.
    """
    wanted = _wanted(settings, exporter)
    if not wanted:
        return _provider
    provider = _ensure_provider(service_name)
    for key, make in wanted.items():
        if key not in _installed:
            provider.add_span_processor(make())
            _installed.add(key)
    return provider
