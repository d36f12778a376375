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
        await self.bus.publish_job(job_subject(service, kind), body, msg_id=task["_id"])
        return task
