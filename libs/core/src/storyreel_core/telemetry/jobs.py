"""What a worker records around each JetStream job: a span, a duration, task transitions.

The job span continues the trace found in the message headers (the publisher's gRPC handler,
say), not whatever context the pull loop happens to run in, so a job is a child of the request
that started it even after a redelivery to another replica.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from storyreel_core.telemetry.metrics import JOB_SECONDS, TASK_TRANSITIONS
from storyreel_core.telemetry.propagation import extract_context

tracer = trace.get_tracer("storyreel.jobs")

FAILED_STATUSES = frozenset({"failed", "retrying"})


def job_labels(subject: str) -> tuple[str, str]:
    """(service, kind) of `jobs.<service>.<kind>`; a consumer's filter gives kind `>`."""
    parts = subject.split(".", 2)
    if len(parts) == 3 and parts[0] == "jobs":
        return parts[1], parts[2]
    return subject, "unknown"


@contextmanager
def observe_job(subject: str, headers: Mapping[str, str] | None) -> Iterator[Span]:
    """Run the handling of one job message inside its span, and time it."""
    service, kind = job_labels(subject)
    start = time.perf_counter()
    try:
        with tracer.start_as_current_span(
            f"job {kind}",
            context=extract_context(headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": subject,
                "service": service,
                "kind": kind,
            },
        ) as span:
            yield span
    finally:
        JOB_SECONDS.labels(service, kind).observe(time.perf_counter() - start)


def annotate_job(task_id: str, kind: str, attempt: int) -> None:
    """Name the task on the current job span once the message body has been read."""
    span = trace.get_current_span()
    span.set_attributes({"task_id": task_id, "kind": kind, "attempt": attempt})


def record_task_status(subject: str, status: str) -> None:
    """Count a task transition the runner made, and note it on the job span.

    `retrying` is a failed attempt that will be delivered again (the record says pending).
    """
    service, kind = job_labels(subject)
    TASK_TRANSITIONS.labels(service, kind, status).inc()
    span = trace.get_current_span()
    span.set_attribute("task.status", status)
    if status in FAILED_STATUSES:
        span.set_status(Status(StatusCode.ERROR, f"task {status}"))
