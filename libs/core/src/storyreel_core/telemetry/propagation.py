"""W3C trace context across NATS messages.

gRPC and HTTP carry `traceparent` through their instrumentations; JetStream messages are ours to
carry, in the message headers, so a job's span continues the trace of whoever published it even
when the worker runs in another process, minutes later, after a redelivery.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import propagate
from opentelemetry.context import Context


def inject_context(headers: dict[str, str]) -> dict[str, str]:
    """Add the current trace context (`traceparent`, `tracestate`) to `headers`, in place."""
    propagate.inject(headers)
    return headers


def extract_context(headers: Mapping[str, str] | None) -> Context:
    """The publisher's context from message headers; an empty one (a new trace) without them."""
    return propagate.extract(dict(headers or {}))
