"""Screenplay drafts, generated or uploaded media and seed 004's typed tasks, owner-scoped.

Collections:
- `screenplay_drafts`: one document per draft (`screenplay_…`): the prompt, the scenes and
  characters the screenwriter wrote (as edited), the stage tasks that make it and, once
  confirmed, the drama, script and storyboard task it became;
- `media_items`: an uploaded or generated image (`img_…`) or a generated video (`vid_…`),
  with the object key of its file once it exists and the task that makes it;
- `seed_tasks`: task id → seed 004's `type` (screenplay, image, video) and what the task
  makes (`screenplay_id` or `media_id`), for `GET /tasks?type=…`; also how a task event finds
  its draft (`DraftAdvancer`).

Every read names the owner: another user's id is NotFound (404, 1002) as an unknown one.
"""

from __future__ import annotations

from typing import Any, Literal

from storyreel_core.clock import utc_now
from storyreel_core.errors import NotFound
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec

DRAFTS = "screenplay_drafts"
MEDIA = "media_items"
SEED_TASKS = "seed_tasks"
INDEXES = {
    DRAFTS: (IndexSpec(("owner_id", "created_at")),),
    MEDIA: (IndexSpec(("owner_id", "created_at")),),
    SEED_TASKS: (IndexSpec(("owner_id", "type", "created_at")),),
}
SeedType = Literal["screenplay", "image", "video"]
SEED_TYPES: tuple[SeedType, ...] = ("screenplay", "image", "video")
# The later tasks of a draft (its sheets, its storyboards): linked to it so their events move
# it on, never listed as seed 004 tasks of their own.
DRAFT_STAGE = "screenplay.stage"
MediaKind = Literal["image", "video"]
MEDIA_PREFIX: dict[MediaKind, str] = {"image": "img", "video": "vid"}


class DraftDocuments:
    def __init__(self, docs: DocumentStore) -> None:
        self.docs = docs

    async def ensure_indexes(self) -> None:
        for collection, indexes in INDEXES.items():
            await self.docs.ensure_indexes(collection, indexes)

    # --- drafts ---------------------------------------------------------------------------

    async def create_draft(self, owner_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        now = utc_now()
        doc = {
            "_id": new_id("screenplay"),
            "owner_id": owner_id,
            "status": "generating",
            "title": "",
            "scenes": [],
            "characters": [],
            "created_at": now,
            "updated_at": now,
            **fields,
        }
        return await self.docs.insert(DRAFTS, doc)

    async def draft(self, owner_id: str, draft_id: str) -> dict[str, Any]:
        doc = await self.docs.find_one(DRAFTS, {"_id": draft_id, "owner_id": owner_id})
        if doc is None:
            raise NotFound(f"screenplay {draft_id} not found", field="screenplay_id")
        return doc

    async def update_draft(
        self, draft_id: str, changes: dict[str, Any], *, expected_version: int | None = None
    ) -> dict[str, Any]:
        return await self.docs.update(
            DRAFTS,
            draft_id,
            {**changes, "updated_at": utc_now()},
            expected_version=expected_version,
        )

    # --- media ----------------------------------------------------------------------------

    async def create_media(
        self, owner_id: str, kind: MediaKind, fields: dict[str, Any]
    ) -> dict[str, Any]:
        now = utc_now()
        doc = {
            "_id": new_id(MEDIA_PREFIX[kind]),
            "owner_id": owner_id,
            "kind": kind,
            "created_at": now,
            "updated_at": now,
            **fields,
        }
        return await self.docs.insert(MEDIA, doc)

    async def media(self, owner_id: str, media_id: str, kind: MediaKind) -> dict[str, Any]:
        doc = await self.docs.find_one(MEDIA, {"_id": media_id, "owner_id": owner_id, "kind": kind})
        if doc is None:
            raise NotFound(f"{kind} {media_id} not found", field=f"{kind}_id")
        return doc

    async def update_media(self, media_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return await self.docs.update(MEDIA, media_id, {**changes, "updated_at": utc_now()})

    # --- typed tasks ----------------------------------------------------------------------

    async def link_task(
        self, owner_id: str, task_id: str, seed_type: str, **made: str
    ) -> dict[str, Any]:
        """Record what a task makes: `seed_type` is a SeedType, or DRAFT_STAGE."""
        doc = {
            "_id": task_id,
            "owner_id": owner_id,
            "type": seed_type,
            "created_at": utc_now(),
            **made,
        }
        return await self.docs.insert(SEED_TASKS, doc)

    async def task_link(self, task_id: str) -> dict[str, Any] | None:
        return await self.docs.get(SEED_TASKS, task_id)

    async def forget_task(self, owner_id: str, task_id: str) -> None:
        """A deleted task leaves the seed 004 listing (the draft or media item it made keeps
        its own record, read as failed from then on)."""
        await self.docs.delete_many(SEED_TASKS, {"_id": task_id, "owner_id": owner_id})

    async def list_tasks(
        self, owner_id: str, seed_type: SeedType | None, *, page: int, per_page: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Newest first."""
        flt: dict[str, Any] = {"owner_id": owner_id}
        if seed_type is not None:
            flt["type"] = seed_type
        total = await self.docs.count(SEED_TASKS, flt)
        items = await self.docs.find(
            SEED_TASKS,
            flt,
            sort=[("created_at", -1), ("_id", -1)],
            skip=(page - 1) * per_page,
            limit=per_page,
        )
        return items, total
