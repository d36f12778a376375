"""Script versions: the repository of snapshots, one per save, never rewritten.

A version's number is the script's document version right after the save, so numbers run
1, 2, 3… without gaps and a retried save (same script, same number) is stored once.
"""

from __future__ import annotations

from typing import Any

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, NotFound
from storyreel_core.stores.document_store import DocumentStore, IndexSpec

VERSIONS = "script_versions"
INDEXES = (
    IndexSpec(("script_id", "number"), unique=True, name="ux_script_versions_script_number"),
    IndexSpec(("owner_id", "drama_id")),
)
SNAPSHOT_FIELDS = ("title", "content", "scenes", "metadata", "status")


def version_id(script_id: str, number: int) -> str:
    return f"scriptver_{script_id.removeprefix('script_')}_{number}"


class ScriptVersions:
    def __init__(self, docs: DocumentStore) -> None:
        self.docs = docs

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(VERSIONS, INDEXES)

    async def record(self, script: dict[str, Any], message: str) -> dict[str, Any]:
        """Snapshot `script` at its current version (idempotent for the same number)."""
        number = int(script["version"])
        doc = {
            "_id": version_id(script["_id"], number),
            "owner_id": script["owner_id"],
            "drama_id": script["drama_id"],
            "script_id": script["_id"],
            "number": number,
            **{name: script.get(name) for name in SNAPSHOT_FIELDS},
            "message": message,
            "created_at": utc_now(),
        }
        try:
            return await self.docs.insert(VERSIONS, doc)
        except AlreadyExists:
            existing = await self.docs.get(VERSIONS, doc["_id"])
            if existing is None:
                raise
            return existing

    async def get(
        self, owner_id: str, drama_id: str, script_id: str, ver_id: str
    ) -> dict[str, Any]:
        doc = await self.docs.find_one(
            VERSIONS,
            {"_id": ver_id, "owner_id": owner_id, "drama_id": drama_id, "script_id": script_id},
        )
        if doc is None:
            raise NotFound(f"script version {ver_id} not found", field="version_id")
        return doc

    async def list(
        self, owner_id: str, drama_id: str, script_id: str, *, page: int, per_page: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Newest first."""
        flt = {"owner_id": owner_id, "drama_id": drama_id, "script_id": script_id}
        total = await self.docs.count(VERSIONS, flt)
        items = await self.docs.find(
            VERSIONS, flt, sort=[("number", -1)], skip=(page - 1) * per_page, limit=per_page
        )
        return items, total

    async def delete_for_script(self, owner_id: str, drama_id: str, script_id: str) -> int:
        return await self.docs.delete_many(
            VERSIONS, {"owner_id": owner_id, "drama_id": drama_id, "script_id": script_id}
        )

    async def delete_for_drama(self, owner_id: str, drama_id: str) -> int:
        return await self.docs.delete_many(VERSIONS, {"owner_id": owner_id, "drama_id": drama_id})
