"""Seed 001's stage resources (`/workflow/script/{id}`, `/workflow/storyboard/{id}`, …): one
document per hand-driven stage run in the gateway's `workflow_stage_runs` collection.

A run names the drama it works on, the studio tasks it started (`task_ids`, oldest first) and
what its view needs later (the shots, the grid, the music); the studio resources themselves
(scripts, assets, storyboards, videos) stay with their services. Every read is scoped to the
owner and the stage: another user's id, or another stage's, is 404 (1002).
"""

from __future__ import annotations

from typing import Any, Literal

from storyreel_core.clock import utc_now
from storyreel_core.errors import NotFound
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec

RUNS = "workflow_stage_runs"
StageKind = Literal["script", "assets", "storyboard", "animatic", "video", "edit", "file", "ref"]
PREFIXES: dict[str, str] = {
    "script": "wscript",
    "assets": "wassets",
    "storyboard": "wboard",
    "animatic": "wanim",
    "video": "wvideo",
    "edit": "wedit",
    "file": "wfile",
    "ref": "wref",
}
INDEXES = (IndexSpec(("owner_id", "kind", "created_at")), IndexSpec(("owner_id", "drama_id")))


class StageRuns:
    def __init__(self, docs: DocumentStore) -> None:
        self.docs = docs
        self._indexed = False

    async def _ensure(self) -> None:
        if not self._indexed:
            await self.docs.ensure_indexes(RUNS, INDEXES)
            self._indexed = True

    @staticmethod
    def new_id(kind: StageKind) -> str:
        return new_id(PREFIXES[kind])

    async def create(
        self, run_id: str, owner_id: str, kind: StageKind, drama_id: str, **fields: Any
    ) -> dict[str, Any]:
        await self._ensure()
        now = utc_now()
        doc = {
            "_id": run_id,
            "owner_id": owner_id,
            "kind": kind,
            "drama_id": drama_id,
            "task_ids": [],
            "created_at": now,
            "updated_at": now,
            **fields,
        }
        return await self.docs.insert(RUNS, doc)

    async def get(self, owner_id: str, kind: StageKind, run_id: str) -> dict[str, Any]:
        doc = await self.docs.get(RUNS, run_id)
        if doc is None or doc.get("owner_id") != owner_id or doc.get("kind") != kind:
            raise NotFound(f"{kind} {run_id} not found", field="id")
        return doc

    async def update(self, run_id: str, **changes: Any) -> dict[str, Any]:
        return await self.docs.update(RUNS, run_id, {**changes, "updated_at": utc_now()})

    async def find(self, owner_id: str, **flt: Any) -> list[dict[str, Any]]:
        await self._ensure()
        return await self.docs.find(
            RUNS, {"owner_id": owner_id, **flt}, sort=(("created_at", -1),), limit=500
        )

    async def dramas(self, owner_id: str) -> list[str]:
        """The dramas the owner's stage runs worked on, newest first, each once."""
        seen: dict[str, None] = {}
        for doc in await self.find(owner_id):
            if doc.get("drama_id"):
                seen.setdefault(doc["drama_id"], None)
        return list(seen)
