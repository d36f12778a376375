"""`/monitoring/*`: Prometheus metrics, status, alerts and their history, recent errors.

What each process sees: `/monitoring/metrics` serves this process's Prometheus registry (in
embedded mode every service's metrics; a standalone gateway only its own HTTP metrics, each
service serving its own on `STORYREEL_METRICS_PORT`) plus `storyreel_tasks{status}`, counted
for every owner by the workflow service's TaskService at scrape time, so task counts are
platform-wide in every mode. The same holds for `/monitoring/logs/errors`: this process's log.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from pydantic import BaseModel

from storyreel_core.clock import utc_now
from storyreel_core.errors import AppError
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import tasks_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.telemetry.error_log import recent_errors
from storyreel_core.telemetry.metrics import metrics_payload
from storyreel_gateway.auth.roles import AdminUser
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.monitoring.alerts import AlertBook, evaluate
from storyreel_gateway.monitoring.health import health_report
from storyreel_gateway.state import GatewayState

log = get_logger("storyreel.gateway.monitoring")
router = APIRouter(
    route_class=CheckedRoute, prefix="/monitoring", tags=["monitoring"], responses=ERROR_RESPONSES
)
# Who asks the TaskService for platform-wide counts (CountTasks reads no owner's content).
MONITOR_CALLER = "system:monitoring"


async def task_counts(state: GatewayState) -> dict[str, Any]:
    """`{by_status: {status: n}, finished_recently: {status: n}}` over every owner."""
    since = datetime.now(UTC) - timedelta(seconds=state.settings.alert_window_s)
    stamp = since.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    msg = await call(
        state.stubs.tasks.CountTasks,
        tasks_pb2.CountTasksRequest(finished_since=stamp),
        user_id=MONITOR_CALLER,
        timeout=5.0,
    )
    return {"by_status": dict(msg.by_status), "finished_recently": dict(msg.finished_recently)}


async def queue_state(state: GatewayState) -> dict[str, Any] | None:
    if state.bus is None:
        return None
    return await state.bus.queue_status()


async def snapshot(state: GatewayState) -> dict[str, Any]:
    """What the alert rules read: `{health, queue, tasks}`; a part that cannot be read is
    None (and the health report says which dependency is down)."""
    health = await health_report(state)
    parts: dict[str, Any] = {"health": health, "queue": None, "tasks": None}
    try:
        parts["queue"] = await queue_state(state)
    except Exception as exc:  # the bus being down is already in the health report
        log.warning("monitoring.queue_unreadable", error=str(exc))
    try:
        parts["tasks"] = await task_counts(state)
    except AppError as exc:
        log.warning("monitoring.tasks_unreadable", error=exc.message)
    return parts


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    summary="Prometheus text: this process's metrics and platform-wide task counts",
)
async def metrics(state: State) -> Response:
    """Open like `/metrics` (for a Prometheus scraper). Adds the gauge `storyreel_tasks{status}`
    to the registry; job durations are the histogram `storyreel_job_duration_seconds`, task
    transitions the counter `storyreel_task_transitions_total`."""
    body, content_type = metrics_payload()
    extra = CollectorRegistry()
    gauge = Gauge(
        "storyreel_tasks",
        "Tasks of every owner by status, counted by the TaskService at scrape time.",
        ["status"],
        registry=extra,
    )
    up = Gauge("storyreel_tasks_count_up", "1 when the task counts could be read.", registry=extra)
    try:
        counts = await task_counts(state)
    except AppError as exc:
        log.warning("monitoring.tasks_unreadable", error=exc.message)
        up.set(0)
    else:
        up.set(1)
        for status, n in counts["by_status"].items():
            gauge.labels(status).set(n)
    return Response(body + generate_latest(extra), media_type=content_type)


class AlertOut(BaseModel):
    id: str
    rule_name: str
    subject: str
    severity: str
    message: str
    value: float
    threshold: float
    timestamp: str
    resolved_at: str | None = None
    duration: float


class AlertsOut(BaseModel):
    alerts: list[AlertOut]
    count: int
    timestamp: str


class AlertHistoryOut(AlertsOut):
    time_range_hours: int


@router.get("/alerts", response_model=Envelope[AlertsOut])
async def alerts(state: State, user: CurrentUser) -> dict[str, Any]:
    """Evaluate the rules now (queue lag, task failure rate, a dependency down) and answer the
    active alerts; openings and resolutions are written to the alert history."""
    book = AlertBook(state.docs)
    active = await book.reconcile(evaluate(await snapshot(state), state.settings))
    return ok({"alerts": active, "count": len(active), "timestamp": utc_now()})


@router.get("/alerts/history", response_model=Envelope[AlertHistoryOut])
async def alert_history(
    state: State, user: CurrentUser, hours: Annotated[int, Query(ge=1, le=168)] = 24
) -> dict[str, Any]:
    """Alerts that started in the last `hours` (1-168), newest first, with `resolved_at`."""
    items = await AlertBook(state.docs).history(hours)
    return ok(
        {"alerts": items, "count": len(items), "time_range_hours": hours, "timestamp": utc_now()}
    )


class StatusOut(BaseModel):
    running: bool
    uptime_seconds: float
    version: str
    config: dict[str, Any]
    collectors: dict[str, str]
    health: dict[str, Any]
    tasks: dict[str, Any] | None
    queue: dict[str, Any] | None
    system_info: dict[str, Any]
    timestamp: str


@router.get("/status", response_model=Envelope[StatusOut])
async def status(state: State, user: CurrentUser) -> dict[str, Any]:
    """The monitoring view in one answer: health, task counts, queue, alert rule settings."""
    parts = await snapshot(state)
    settings = state.settings
    disk = shutil.disk_usage(settings.data_dir if settings.data_dir.exists() else "/")
    return ok(
        {
            "running": True,
            "uptime_seconds": round(time.time() - state.started_at, 1),
            "version": parts["health"]["version"],
            "config": {
                "prometheus_enabled": True,
                "alert_manager_enabled": True,
                "log_monitoring_enabled": True,
                "alert_queue_lag": settings.alert_queue_lag,
                "alert_failure_rate": settings.alert_failure_rate,
                "alert_min_finished": settings.alert_min_finished,
                "alert_window_s": settings.alert_window_s,
            },
            "collectors": {
                "task_metrics": "active" if parts["tasks"] is not None else "unavailable",
                "queue_metrics": "active" if parts["queue"] is not None else "unavailable",
                "health_checks": "active",
            },
            "health": parts["health"],
            "tasks": parts["tasks"],
            "queue": parts["queue"],
            "system_info": {
                "load_average": list(os.getloadavg()),
                "cpu_count": os.cpu_count(),
                "disk_usage_percent": round(disk.used / disk.total * 100, 1),
            },
            "timestamp": utc_now(),
        }
    )


class ErrorEntryOut(BaseModel):
    timestamp: str
    level: str
    logger: str
    message: str
    fields: dict[str, str]


class ErrorLogOut(BaseModel):
    errors: list[ErrorEntryOut]
    count: int
    time_range_hours: int
    timestamp: str


@router.get("/logs/errors", response_model=Envelope[ErrorLogOut])
async def error_logs(
    admin: AdminUser, hours: Annotated[int, Query(ge=1, le=24)] = 1
) -> dict[str, Any]:
    """Error-level log events of this process in the last `hours` (1-24), newest last; admins
    only (403, code 1004, for every other user)."""
    entries = recent_errors(datetime.now(UTC) - timedelta(hours=hours))
    return ok(
        {
            "errors": entries,
            "count": len(entries),
            "time_range_hours": hours,
            "timestamp": utc_now(),
        }
    )
