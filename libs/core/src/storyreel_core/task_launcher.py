"""Start long work: store the task record first, then publish its job.

Publishing after the record exists means a worker never sees a job whose task is missing, and a
client never gets a task id it cannot poll. The job's `Nats-Msg-Id` is the task id, so a retried
start (same task id) is de-duplicated by JetStream as well as by the store.

Every service starts its tasks here, so the per-user limit on work in flight lives here too:
a user with `max_active_per_user` top-level tasks pending or running gets 429 (code 1005) for
the next one. The count is read from the shared task store, so it holds across gateway and
service replicas; two starts racing past the count at the same moment can exceed it by one
each, which bounds the work all the same. Stage tasks a task starts (`parent_id` set) and
re-attached ones (`task_id` given) are never refused: they are part of work already admitted.
"""

from __future__ import annotations

import asyncio
from typing import Any

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.bus.job_runner import job_subject
from storyreel_core.errors import AlreadyExists, AppError, Code
from storyreel_core.task_store import TASKS, TaskStore

ACTIVE = ("pending", "running")


def too_many_tasks(limit: int) -> AppError:
    return AppError(
        f"too many tasks at once: at most {limit} may be pending or running; "
        "wait for one to finish or cancel one",
        code=Code.RATE_LIMITED,
        field="tasks",
        reason=f"the limit is {limit} pending or running tasks per user "
        "(STORYREEL_MAX_ACTIVE_TASKS_PER_USER)",
    )


RETRYABLE = frozenset({"failed", "cancelled"})
RETRY_CLAIM_ATTEMPTS = 10  # reads and claims of one retry before it answers 409


class TaskLauncher:
    def __init__(
        self, tasks: TaskStore, bus: JetStreamBus, *, max_active_per_user: int = 0
    ) -> None:
        self.tasks = tasks
        self.bus = bus
        self.max_active_per_user = max_active_per_user

    async def admit(self, owner_id: str) -> None:
        """Raise 429 (code 1005) when the owner already has the most top-level tasks pending or
        running that the limit allows (0: no limit)."""
        limit = self.max_active_per_user
        if limit <= 0:
            return
        # Top-level = all active less those with a parent: `{"parent_id": None}` is matched
        # differently by Mongo-compatible servers, `$ne: None` the same by all of them.
        mine = {"owner_id": owner_id, "status": {"$in": list(ACTIVE)}}
        active = await self.tasks.docs.count(TASKS, mine)
        if active >= limit:
            active -= await self.tasks.docs.count(TASKS, {**mine, "parent_id": {"$ne": None}})
        if active >= limit:
            raise too_many_tasks(limit)

    async def start(
        self,
        *,
        service: str,
        kind: str,
        owner_id: str,
        payload: dict[str, Any],
        parent_id: str | None = None,
        drama_id: str | None = None,
        task_id: str | None = None,
        total: int = 0,
        progress: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if parent_id is None and task_id is None:
            await self.admit(owner_id)
        try:
            task = await self.tasks.create(
                kind=kind,
                service=service,
                owner_id=owner_id,
                payload=payload,
                parent_id=parent_id,
                drama_id=drama_id,
                task_id=task_id,
                total=total,
                progress=progress,
            )
        except AlreadyExists:
            if task_id is None:
                raise
            task = await self.tasks.get(task_id, owner_id)
        body = {"task_id": task["_id"], "kind": kind, "owner_id": owner_id, "payload": payload}
        seq = await self.bus.publish_job(job_subject(service, kind), body, msg_id=task["_id"])
        # Where the job sits in the stream: the reaper tells a queued job from a lost one by it.
        return await self.tasks.update(task["_id"], job_seq=seq)

    async def retry(self, task_id: str, owner_id: str) -> dict[str, Any]:
        """Run a failed or cancelled task again: back to `pending` with a fresh job (a new
        message id, so JetStream's de-duplication and spent deliveries do not stand in the
        way). The job resumes from what the task kept (a render reuses its finished stages).
        NotFound for another owner's task; 409 (1003) for a task that is not failed/cancelled
        or is being retried by another request at the same moment."""
        # A cancelled task's own job may still be writing its last record (its stage tasks
        # being cancelled): read again and claim again, rather than tell the client to retry.
        for _ in range(RETRY_CLAIM_ATTEMPTS):
            doc = await self.tasks.get(task_id, owner_id)
            if doc["status"] not in RETRYABLE:
                raise AlreadyExists(
                    f"task {task_id} is {doc['status']}: only a failed or cancelled task is"
                    " retried",
                    field="task_id",
                )
            count = int(doc.get("retries") or 0) + 1
            claimed = await self.tasks.settle(
                doc,
                status="pending",
                current_step="queued",
                current_item=None,
                error=None,
                result=None,
                finished_at=None,
                retries=count,
            )
            if claimed is not None:
                break
            await asyncio.sleep(0.05)
        else:
            raise AlreadyExists(f"task {task_id} changed meanwhile; try again", field="task_id")
        body = {
            "task_id": task_id,
            "kind": doc["kind"],
            "owner_id": doc.get("owner_id", ""),
            "payload": doc.get("payload") or {},
            "retries": count,  # a job published before this retry is then superseded
        }
        seq = await self.bus.publish_job(
            job_subject(doc["service"], doc["kind"]), body, msg_id=f"{task_id}:retry:{count}"
        )
        return await self.tasks.update(task_id, job_seq=seq)
