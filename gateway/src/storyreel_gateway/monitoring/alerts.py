"""Alert rules over the monitoring snapshot, and their history in the document store.

Rules (thresholds from settings, `STORYREEL_ALERT_*`):

- `queue_lag` (warning): a JetStream job consumer holds more than `alert_queue_lag` messages
  (pending + unacknowledged);
- `task_failure_rate` (critical): of the tasks that finished in the last `alert_window_s`,
  the share that failed exceeds `alert_failure_rate`, once at least `alert_min_finished` finished;
- `dependency_down` (critical): a dependency of the health report is down (one alert each).

Every evaluation reconciles the `alerts` collection: a rule that fires with no open alert opens
one (`resolved_at: null`), an open alert whose rule no longer fires is resolved. The unique
`open_key` index keeps replicas evaluating at once from opening the same alert twice.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists
from storyreel_core.ids import new_id
from storyreel_core.settings import Settings
from storyreel_core.stores.document_store import DocumentStore, IndexSpec

ALERTS = "alerts"
ALERT_INDEXES = (
    IndexSpec(("open_key",), unique=True),
    IndexSpec(("started_at",)),
)


@dataclass(frozen=True)
class Firing:
    """One rule firing now for one subject (a consumer, a dependency, the platform)."""

    rule_name: str
    subject: str
    severity: str
    message: str
    value: float
    threshold: float

    @property
    def key(self) -> str:
        return f"{self.rule_name}:{self.subject}"


def evaluate(snapshot: dict[str, Any], settings: Settings) -> list[Firing]:
    """The rules that fire for `snapshot` (`{health, queue, tasks}` as built by the router:
    `queue` may be None without a bus; `tasks` has `finished_recently` by terminal status)."""
    firing: list[Firing] = []
    queue = snapshot.get("queue") or {}
    for consumer in queue.get("consumers", []):
        lag = consumer["pending"] + consumer["ack_pending"]
        if lag > settings.alert_queue_lag:
            firing.append(
                Firing(
                    "queue_lag",
                    consumer["name"],
                    "warning",
                    f"consumer {consumer['name']} holds {lag} job messages",
                    float(lag),
                    float(settings.alert_queue_lag),
                )
            )
    recent = (snapshot.get("tasks") or {}).get("finished_recently", {})
    finished = sum(recent.values())
    if finished >= settings.alert_min_finished and finished > 0:
        rate = recent.get("failed", 0) / finished
        if rate > settings.alert_failure_rate:
            firing.append(
                Firing(
                    "task_failure_rate",
                    "tasks",
                    "critical",
                    f"{rate:.0%} of the {finished} tasks finished in the last "
                    f"{settings.alert_window_s:g} s failed",
                    round(rate, 4),
                    settings.alert_failure_rate,
                )
            )
    for name in (snapshot.get("health") or {}).get("down", []):
        firing.append(Firing("dependency_down", name, "critical", f"{name} is down", 1.0, 0.0))
    return firing


def _seconds_between(start: str, end: str) -> float:
    def parse(s: str) -> datetime:
        return datetime.fromisoformat(s.replace("Z", "+00:00"))

    return round((parse(end) - parse(start)).total_seconds(), 1)


def present(doc: dict[str, Any], now: str) -> dict[str, Any]:
    """Seed 003's alert shape: rule_name, severity, message, value, threshold, timestamp
    (when it started), resolved_at (null while active), duration (seconds so far or in all)."""
    return {
        "id": doc["_id"],
        "rule_name": doc["rule_name"],
        "subject": doc["subject"],
        "severity": doc["severity"],
        "message": doc["message"],
        "value": doc["value"],
        "threshold": doc["threshold"],
        "timestamp": doc["started_at"],
        "resolved_at": doc.get("resolved_at"),
        "duration": _seconds_between(doc["started_at"], doc.get("resolved_at") or now),
    }


class AlertBook:
    """Open and resolve alerts as evaluations come in; read active alerts and history."""

    def __init__(self, docs: DocumentStore) -> None:
        self.docs = docs

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(ALERTS, ALERT_INDEXES)

    async def reconcile(self, firing: list[Firing]) -> list[dict[str, Any]]:
        """Record `firing` against the open alerts; returns the active ones, newest first."""
        now = utc_now()
        wanted = {f.key: f for f in firing}
        open_docs = await self.docs.find(ALERTS, {"resolved_at": None})
        for doc in open_docs:
            fire = wanted.pop(doc["open_key"], None)
            if fire is None:
                # Resolved: the open key moves to the alert's own id, freeing the rule's key.
                await self.docs.update(
                    ALERTS, doc["_id"], {"resolved_at": now, "open_key": doc["_id"]}
                )
            elif fire.value != doc["value"]:
                await self.docs.update(ALERTS, doc["_id"], {"value": fire.value})
        for fire in wanted.values():
            # Another replica may have opened it a moment ago: its unique open_key wins.
            with contextlib.suppress(AlreadyExists):
                await self.docs.insert(
                    ALERTS,
                    {
                        "_id": new_id("alert"),
                        "open_key": fire.key,
                        "rule_name": fire.rule_name,
                        "subject": fire.subject,
                        "severity": fire.severity,
                        "message": fire.message,
                        "value": fire.value,
                        "threshold": fire.threshold,
                        "started_at": now,
                        "resolved_at": None,
                    },
                )
        active = await self.docs.find(ALERTS, {"resolved_at": None}, sort=[("started_at", -1)])
        return [present(d, now) for d in active]

    async def history(self, hours: int, limit: int = 500) -> list[dict[str, Any]]:
        """Alerts that started in the last `hours`, active or resolved, newest first."""
        since = datetime.now(UTC).timestamp() - hours * 3600
        stamp = datetime.fromtimestamp(since, UTC).isoformat(timespec="milliseconds")
        docs = await self.docs.find(
            ALERTS,
            {"started_at": {"$gte": stamp.replace("+00:00", "Z")}},
            sort=[("started_at", -1)],
            limit=limit,
        )
        now = utc_now()
        return [present(d, now) for d in docs]
