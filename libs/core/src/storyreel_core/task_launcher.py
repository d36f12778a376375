"""Start long work: store the task record first, then publish its job.

Publishing after the record exists means a worker never sees a job whose task is missing, and a
client never gets a task id it cannot poll. The job's `Nats-Msg-Id` is the task id, so a retried
start (same task id) is de-duplicated by JetStream as well as by the store.
"""

from __future__ import annotations

from typing import Any

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.bus.job_runner import job_subject
from storyreel_core.errors import AlreadyExists
from storyreel_core.task_store import TaskStore

RETRYABLE = frozenset({"failed", "cancelled"})


class TaskLauncher:
    def __init__(self, tasks: TaskStore, bus: JetStreamBus) -> None:
        self.tasks = tasks
        self.bus = bus

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
        doc = await self.tasks.get(task_id, owner_id)
        if doc["status"] not in RETRYABLE:
            raise AlreadyExists(
                f"task {task_id} is {doc['status']}: only a failed or cancelled task is retried",
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
        if claimed is None:
            raise AlreadyExists(f"task {task_id} changed meanwhile; try again", field="task_id")
        body = {
            "task_id": task_id,
            "kind": doc["kind"],
            "owner_id": doc.get("owner_id", ""),
            "payload": doc.get("payload") or {},
        }
        seq = await self.bus.publish_job(
            job_subject(doc["service"], doc["kind"]), body, msg_id=f"{task_id}:retry:{count}"
        )
        return await self.tasks.update(task_id, job_seq=seq)
