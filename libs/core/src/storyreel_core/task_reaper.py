"""No task left `pending` or `running` for ever: the max-deliveries listener and the reaper.

JetStream stops delivering a job after `max_deliver` deliveries that each ended without an ack
or a term — every worker that took it died or stalled. Nobody is left to mark its task, so
without help the task (and a parent waiting on it) would show `running` for ever. Two owners
close that gap:

- `on_max_deliveries`: JetStream's advisory (`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.JOBS.*`)
  names the job's stream sequence; the job's body gives the task id, the task is failed with a
  reason and the spent job is deleted from the stream. Every service subscribes in one queue
  group, so one live process handles each advisory whichever service's worker died.
- `sweep`, every `task_reaper_interval_s`: a service's tasks that are unfinished and untouched
  for `task_stale_after_s` (a running job's watcher stamps `heartbeat_at` far more often) have
  no live job. If their job is still in the stream and deliveries remain, JetStream will
  deliver it again: left alone. If its deliveries are used up (an advisory was missed), the
  task is failed. If the job is gone (lost with a stream, or never published after the record
  was written), it is published again while deliveries remain, else the task is failed.

Every change is an atomic conditional update on the version read (`TaskStore.settle`), so
replicas running the same sweep, an advisory and a worker finishing the job race safely: the
first writer wins, the others see a moved version and leave the task alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.bus.job_runner import job_subject, task_event_subject
from storyreel_core.clock import utc_now
from storyreel_core.errors import AppError, Code
from storyreel_core.logging import get_logger
from storyreel_core.task_store import TERMINAL, TaskStore, task_view

log = get_logger("storyreel.reaper")

ADVISORY_QUEUE = "storyreel-max-deliveries"


def gave_up_error(deliveries: int) -> dict[str, Any]:
    """The `error` of a task whose job used up its deliveries."""
    return {
        "code": int(Code.GENERAL),
        "reason": (
            f"gave up after {deliveries} deliveries: each worker that took the job stopped "
            "without finishing it (killed or stalled); POST /tasks/{id}/retry runs it again"
        ),
        "field": None,
    }


def iso_before(seconds: float) -> str:
    """The `utc_now()` format, `seconds` ago (ISO strings of one format compare as times)."""
    then = datetime.now(UTC) - timedelta(seconds=seconds)
    return then.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TaskReaper:
    """Fails or re-publishes the unfinished tasks of one service that no live job holds."""

    def __init__(
        self,
        tasks: TaskStore,
        bus: JetStreamBus,
        *,
        service: str,
        max_deliver: int,
        stale_after_s: float,
        interval_s: float,
    ) -> None:
        self.tasks = tasks
        self.bus = bus
        self.service = service
        self.max_deliver = max_deliver
        self.stale_after_s = stale_after_s
        self.interval_s = interval_s
        self._loop: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], Awaitable[None]] | None = None

    async def start(self) -> None:
        self._unsubscribe = await self.bus.on_max_deliveries(
            self.on_max_deliveries, queue=ADVISORY_QUEUE
        )
        if self.interval_s > 0:
            self._loop = asyncio.create_task(self._every_interval(), name=f"reaper:{self.service}")

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        if self._unsubscribe is not None:
            with contextlib.suppress(Exception):
                await self._unsubscribe()

    async def _every_interval(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.sweep()
            except Exception as exc:  # a store or bus outage: the next sweep tries again
                log.warning("reaper.sweep_failed", service=self.service, error=repr(exc))

    async def _publish(self, doc: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):  # events are best effort; the record is the truth
            await self.bus.publish_event(task_event_subject(doc["_id"]), task_view(doc))

    async def _fail(self, read: dict[str, Any], error: dict[str, Any], seq: int | None) -> bool:
        failed = await self.tasks.settle(
            read, status="failed", error=error, finished_at=utc_now(), current_item=None
        )
        if failed is None:
            return False
        await self._publish(failed)
        if seq is not None:
            await self.bus.drop_job(seq)
        log.warning("reaper.task_failed", task_id=read["_id"], reason=error["reason"])
        return True

    async def on_max_deliveries(self, seq: int, deliveries: int, consumer: str) -> None:
        """Fail the task of the job at `seq`, whose deliveries are used up."""
        body = await self.bus.job_at(seq)
        if body is None or "task_id" not in body:
            return  # acked meanwhile, or already handled by another listener
        task_id = str(body["task_id"])
        for _attempt in range(5):  # a heartbeat or progress write may move the version
            try:
                doc = await self.tasks.get(task_id)
            except AppError:
                await self.bus.drop_job(seq)
                return
            if doc["status"] in TERMINAL:
                await self.bus.drop_job(seq)
                return
            if await self._fail(doc, gave_up_error(deliveries), seq):
                log.warning("jobs.max_deliveries", task_id=task_id, consumer=consumer)
                return

    async def sweep(self) -> list[str]:
        """One pass over this service's stale tasks; the ids it failed or re-published."""
        acted: list[str] = []
        for doc in await self.tasks.stale(self.service, iso_before(self.stale_after_s)):
            if await self._reap(doc):
                acted.append(doc["_id"])
        return acted

    async def _reap(self, doc: dict[str, Any]) -> bool:
        seq = doc.get("job_seq")
        body = await self.bus.job_at(int(seq)) if seq is not None else None
        job_alive = body is not None and body.get("task_id") == doc["_id"]
        attempts = int(doc.get("attempts") or 0)
        if job_alive:
            if attempts < self.max_deliver:
                return False  # JetStream delivers it again (a backlog, or after ack_wait)
            return await self._fail(doc, gave_up_error(attempts), int(seq))  # type: ignore[arg-type]
        if attempts >= self.max_deliver:
            return await self._fail(doc, gave_up_error(attempts), None)
        return await self._republish(doc)

    async def _republish(self, doc: dict[str, Any]) -> bool:
        """Publish the job of a task whose job is gone (a new message id: the old one may still
        sit in the stream's de-duplication window)."""
        count = int(doc.get("requeued") or 0) + 1
        claimed = await self.tasks.settle(
            doc, status="pending", current_step="requeued", requeued=count
        )
        if claimed is None:
            return False
        body = {
            "task_id": doc["_id"],
            "kind": doc["kind"],
            "owner_id": doc.get("owner_id", ""),
            "payload": doc.get("payload") or {},
            "retries": int(doc.get("retries") or 0),  # the job of the task's latest retry
        }
        seq = await self.bus.publish_job(
            job_subject(self.service, doc["kind"]), body, msg_id=f"{doc['_id']}:requeue:{count}"
        )
        await self.tasks.update(doc["_id"], job_seq=seq)
        log.warning("reaper.task_requeued", task_id=doc["_id"], requeued=count)
        return True
