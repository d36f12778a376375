"""Task records: the durable face of long work, shared by every service's job runner.

A task is created `pending` by the service that owns the work, before its job is published, so a
client polling right after the 202 always finds it. Queries are scoped to the owner: another
user's task id answers NotFound, never Forbidden, so ids leak nothing.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, Literal

from storyreel_core.clock import utc_now
from storyreel_core.errors import NotFound, VersionConflict
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec

TASKS = "tasks"
TaskStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
TASK_INDEXES = (
    IndexSpec(("owner_id", "created_at")),
    IndexSpec(("status",)),
    IndexSpec(("parent_id",)),
    IndexSpec(("drama_id",)),
    IndexSpec(("service", "status", "updated_at")),
)
UNFINISHED = ("pending", "running")


def progress_doc(
    completed: int, total: int, *, percentage: float | None = None, **extra: Any
) -> dict[str, Any]:
    """`percentage` may be finer than completed/total (a stage half done moves the bar)."""
    if percentage is None:
        percentage = 100.0 * completed / total if total > 0 else 0.0
    return {"total": total, "completed": completed, "percentage": round(percentage, 1), **extra}


def task_view(doc: dict[str, Any]) -> dict[str, Any]:
    """The public shape of seed 000's task: status, progress, current step, result, error."""
    return {
        "task_id": doc["_id"],
        "kind": doc.get("kind"),
        "status": doc.get("status"),
        "progress": doc.get("progress") or progress_doc(0, 0),
        "current_step": doc.get("current_step"),
        "current_item": doc.get("current_item"),
        "result": doc.get("result"),
        "error": doc.get("error"),
        "attempts": doc.get("attempts", 0),
        "parent_id": doc.get("parent_id"),
        "drama_id": doc.get("drama_id"),
        "created_at": doc.get("created_at"),
        "updated_at": doc.get("updated_at"),
        "started_at": doc.get("started_at"),
        "finished_at": doc.get("finished_at"),
    }


class TaskStore:
    def __init__(self, docs: DocumentStore) -> None:
        self.docs = docs

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(TASKS, TASK_INDEXES)

    async def create(
        self,
        *,
        kind: str,
        service: str,
        owner_id: str,
        payload: dict[str, Any],
        parent_id: str | None = None,
        drama_id: str | None = None,
        task_id: str | None = None,
        total: int = 0,
        progress: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`progress` replaces the initial `progress_doc(0, total)` (e.g. with item counts)."""
        now = utc_now()
        doc = {
            "_id": task_id or new_id("task"),
            "kind": kind,
            "service": service,
            "owner_id": owner_id,
            "parent_id": parent_id,
            "drama_id": drama_id,
            "payload": payload,
            "status": "pending",
            "progress": progress or progress_doc(0, total),
            "current_step": "queued",
            "result": None,
            "error": None,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
            "started_at": None,
            "finished_at": None,
        }
        return await self.docs.insert(TASKS, doc)

    async def get(self, task_id: str, owner_id: str | None = None) -> dict[str, Any]:
        doc = await self.docs.get(TASKS, task_id)
        if doc is None or (owner_id is not None and doc.get("owner_id") != owner_id):
            raise NotFound(f"task {task_id} not found", field="task_id")
        return doc

    async def get_many(self, task_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The records of `task_ids` that exist, by id, read in one query (a waiter or a
        workflow looking at a stage's tasks would otherwise make one round trip per task)."""
        if not task_ids:
            return {}
        docs = await self.docs.find(TASKS, {"_id": {"$in": list(dict.fromkeys(task_ids))}})
        return {str(doc["_id"]): doc for doc in docs}

    async def list(
        self,
        owner_id: str,
        *,
        page: int = 1,
        per_page: int = 20,
        status: str | None = None,
        kind: str | None = None,
        stage_tasks: bool = False,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of the owner's tasks, newest first, and how many match; `stage_tasks`: only
        those another task started (`parent_id` set)."""
        flt: dict[str, Any] = {"owner_id": owner_id}
        if status:
            flt["status"] = status
        if kind:
            flt["kind"] = kind
        if stage_tasks:
            # `$ne: None` is matched alike by every store (see TaskLauncher.admit).
            flt["parent_id"] = {"$ne": None}
        total = await self.docs.count(TASKS, flt)
        items = await self.docs.find(
            TASKS, flt, sort=[("created_at", -1)], skip=(page - 1) * per_page, limit=per_page
        )
        return items, total

    async def update(self, task_id: str, **changes: Any) -> dict[str, Any]:
        """`updated_at` is stamped by the store as it writes (after any wait for its write
        lock): a record's stamp is when it was stored, so stamps follow the order of writes,
        and realtime latency (a client's arrival minus `updated_at`) starts at the write."""
        return await self.docs.update(TASKS, task_id, changes, stamp="updated_at")

    async def mark_running(self, task_id: str, attempt: int) -> dict[str, Any]:
        now = utc_now()
        return await self.update(
            task_id, status="running", attempts=attempt, started_at=now, heartbeat_at=now,
            error=None,
        )  # fmt: skip

    async def heartbeat(self, task_id: str) -> dict[str, Any]:
        """A live job says so: the reaper leaves a task with a recent `heartbeat_at` alone."""
        now = utc_now()
        return await self.update(task_id, heartbeat_at=now)

    async def settle(self, read: dict[str, Any], **changes: Any) -> dict[str, Any] | None:
        """Apply `changes` only if the task is still exactly as `read` (same version): the
        atomic conditional update that lets several reapers and advisory listeners race on
        one task with one winner. None when it moved on (or is gone) meanwhile."""
        changes["updated_at"] = utc_now()
        try:
            return await self.docs.update(
                TASKS, read["_id"], changes, expected_version=int(read["version"])
            )
        except (VersionConflict, NotFound):
            return None

    async def stale(
        self, service: str, before: str, *, limit: int = 100
    ) -> builtins.list[dict[str, Any]]:
        """Unfinished tasks of `service` not updated (no heartbeat, no progress) since `before`."""
        flt = {"service": service, "status": {"$in": [*UNFINISHED]}, "updated_at": {"$lt": before}}
        return await self.docs.find(
            TASKS,
            flt,
            sort=[("updated_at", 1)],
            limit=limit,
        )

    async def complete(self, task_id: str, result: dict[str, Any]) -> dict[str, Any]:
        current = await self.get(task_id)
        total = current.get("progress", {}).get("total") or 1
        return await self.update(
            task_id,
            status="completed",
            result=result,
            progress=progress_doc(total, total),
            current_step="done",
            current_item=None,
            finished_at=utc_now(),
        )

    async def fail(self, task_id: str, error: dict[str, Any], *, final: bool) -> dict[str, Any]:
        if final:
            return await self.update(
                task_id, status="failed", error=error, finished_at=utc_now(), current_item=None
            )
        return await self.update(task_id, status="pending", error=error, current_step="retrying")

    async def delete_drama_tasks(self, owner_id: str, drama_id: str) -> int:
        """Forget a deleted drama's tasks: their results point at media that is gone too."""
        return await self.docs.delete_many(TASKS, {"owner_id": owner_id, "drama_id": drama_id})

    async def cancel(self, task_id: str, owner_id: str) -> dict[str, Any]:
        doc = await self.get(task_id, owner_id)
        if doc["status"] in TERMINAL:
            return doc
        return await self.update(
            task_id, status="cancelled", finished_at=utc_now(), current_step="cancelled"
        )
