"""Workflow documents (`workflows` collection): the durable state of seed 001's workflows.

One document per workflow holds everything the state machine needs to go on after any process
restarts: the request, the drama it runs on, each stage's status with the ids of the tasks it
started (recorded before they are started), what finished stages produced (`outputs`), and the
error of a failed stage. Every write is conditional on the version read, so two replicas (or an
event and an API call) acting on one workflow at once have one winner; the loser reads again.
Reads are owner-scoped: another user's workflow is NotFound (1002), never Forbidden.
"""

from __future__ import annotations

import builtins
from typing import Any

from storyreel_core.clock import utc_now
from storyreel_core.errors import NotFound
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec
from storyreel_core.workflow_models import STAGES

WORKFLOWS = "workflows"
INDEXES = (
    IndexSpec(("owner_id", "created_at")),
    IndexSpec(("status", "updated_at")),
)
UNFINISHED = ("pending", "running", "paused")


def blank_stage() -> dict[str, Any]:
    return {
        "status": "pending",
        "task_ids": [],
        "targets": [],
        "attempt": 0,
        "dispatched": False,
        "started_at": None,
        "finished_at": None,
        "reason": "",
    }


class WorkflowStore:
    def __init__(self, docs: DocumentStore) -> None:
        self.docs = docs

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(WORKFLOWS, INDEXES)

    async def create(
        self,
        *,
        owner_id: str,
        name: str,
        input_type: str,
        input_content: str,
        options: dict[str, Any],
        workflow_id: str = "",
    ) -> dict[str, Any]:
        """A new pending workflow; `workflow_id` (a render's, from its task id) or a new id.
        AlreadyExists (1003) when that id is taken."""
        now = utc_now()
        return await self.docs.insert(
            WORKFLOWS,
            {
                "_id": workflow_id or new_id("wf"),
                "owner_id": owner_id,
                "name": name,
                "input_type": input_type,
                "input_content": input_content,
                "options": options,
                "drama_id": "",
                "status": "pending",
                "current_stage": "",
                "stages": {stage: blank_stage() for stage in STAGES},
                "outputs": {},
                "error": None,
                "retries": 0,
                "created_at": now,
                "updated_at": now,
                "finished_at": None,
            },
        )

    async def get(self, workflow_id: str, owner_id: str | None = None) -> dict[str, Any]:
        doc = await self.docs.get(WORKFLOWS, workflow_id)
        if doc is None or (owner_id is not None and doc.get("owner_id") != owner_id):
            raise NotFound(f"workflow {workflow_id} not found", field="workflow_id")
        return doc

    async def save(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Write `doc` back if nobody changed it since it was read; VersionConflict otherwise."""
        doc["updated_at"] = utc_now()
        return await self.docs.replace(WORKFLOWS, doc, expected_version=int(doc["version"]))

    async def list(
        self,
        owner_id: str,
        *,
        page: int = 1,
        per_page: int = 20,
        status: str = "",
        stage: str = "",
    ) -> tuple[list[dict[str, Any]], int]:
        flt: dict[str, Any] = {"owner_id": owner_id}
        if status:
            flt["status"] = status
        if stage:
            flt["current_stage"] = stage
        total = await self.docs.count(WORKFLOWS, flt)
        items = await self.docs.find(
            WORKFLOWS, flt, sort=[("created_at", -1)], skip=(page - 1) * per_page, limit=per_page
        )
        return items, total

    async def running_count(self, owner_id: str) -> int:
        """The owner's workflows that are pending or running (paused ones hold no work)."""
        return await self.docs.count(
            WORKFLOWS, {"owner_id": owner_id, "status": {"$in": ["pending", "running"]}}
        )

    async def unfinished(self, *, limit: int = 200) -> builtins.list[dict[str, Any]]:
        """Workflows a restarted service must look at again (oldest change first)."""
        return await self.docs.find(
            WORKFLOWS,
            {"status": {"$in": list(UNFINISHED)}},
            sort=[("updated_at", 1)],
            limit=limit,
        )

    async def forget_drama(self, owner_id: str, drama_id: str) -> int:
        """A deleted drama takes its workflows with it (their resources are gone)."""
        return await self.docs.delete_many(WORKFLOWS, {"owner_id": owner_id, "drama_id": drama_id})
