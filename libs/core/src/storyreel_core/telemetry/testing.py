"""Spans in memory for tests, across however many test modules share the process.

The tracer provider can be installed only once per process, so the in-memory exporter is too:
the first caller installs it, every caller gets the same one and clears it before it looks.
"""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from storyreel_core.settings import Settings
from storyreel_core.telemetry.tracing import configure_tracing

_exporter: InMemorySpanExporter | None = None


def memory_exporter() -> InMemorySpanExporter:
    """The process's in-memory exporter, installed (with tracing on) at the first call."""
    global _exporter
    if _exporter is None:
        _exporter = InMemorySpanExporter()
        configure_tracing(Settings(tracing="off"), "storyreel-test", exporter=_exporter)
    return _exporter


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]
