"""The process's Prometheus metrics and the two ways they are scraped.

Metric objects live at module level in the default registry: created once per process however
many services run in it (embedded mode runs all of them beside the gateway, which serves them on
its `/metrics`). A standalone service serves the same registry on its own HTTP port.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

from storyreel_core.cancellation import raise_if_cancelling
from storyreel_core.logging import get_logger

log = get_logger("storyreel.metrics")

# Jobs run from milliseconds (a cached stage) to many minutes (a full render).
JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

HTTP_REQUEST_SECONDS = Histogram(
    "storyreel_http_request_duration_seconds",
    "Gateway request latency by method, route template and status.",
    ["method", "route", "status"],
)
GRPC_SERVER_SECONDS = Histogram(
    "storyreel_grpc_server_handling_seconds",
    "gRPC request latency on the server by full method name and status code.",
    ["method", "code"],
)
TASK_TRANSITIONS = Counter(
    "storyreel_task_transitions",
    "Task status changes made by job runners (running, completed, failed, retrying, cancelled).",
    ["service", "kind", "status"],
)
JOB_SECONDS = Histogram(
    "storyreel_job_duration_seconds",
    "Time a worker spent on one job message, from delivery to ack or nak.",
    ["service", "kind"],
    buckets=JOB_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "storyreel_jetstream_consumer_lag",
    "Job messages waiting for or held by a durable consumer (pending + unacknowledged).",
    ["consumer"],
)

LAG_INTERVAL_S = 10.0


class LagSource(Protocol):
    """What the lag watcher needs of the bus (`JetStreamBus` has it)."""

    async def consumer_lag(self, durable: str) -> int: ...


async def update_consumer_lag(bus: LagSource, durable: str) -> None:
    CONSUMER_LAG.labels(durable).set(await bus.consumer_lag(durable))


async def _watch(bus: LagSource, durable: str, interval: float) -> None:
    while True:
        raise_if_cancelling()  # stop_watch must never hang on a swallowed cancel
        try:
            await update_consumer_lag(bus, durable)
        except Exception as exc:  # a lost server is the bus's problem; keep the last value
            log.debug("metrics.consumer_lag_failed", consumer=durable, error=str(exc))
        await asyncio.sleep(interval)


def watch_consumer_lag(
    bus: LagSource, durable: str, interval: float = LAG_INTERVAL_S
) -> asyncio.Task[None]:
    """Refresh the consumer's lag gauge every `interval` seconds until the task is cancelled."""
    return asyncio.create_task(_watch(bus, durable, interval), name=f"lag:{durable}")


async def stop_watch(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def start_metrics_server(port: int, host: str = "127.0.0.1") -> bool:
    """Serve `/metrics` on `host:port` from a daemon thread; port 0 (or less) leaves it off."""
    if port <= 0:
        return False
    start_http_server(port, addr=host)
    log.info("metrics.serving", port=port)
    return True


def metrics_payload() -> tuple[bytes, str]:
    """The registry in Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
