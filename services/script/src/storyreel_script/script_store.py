"""Scripts under a drama: the repository, with versioning and owner scoping built in.

Every call names the owner and the drama; the drama must exist and belong to the owner
(checked through DramaStore), so another user's drama, script or version id is simply not
found. Every save — create, update, restore — bumps the document version and records a
ScriptVersion snapshot with that number.
"""

from __future__ import annotations

from typing import Any

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, NotFound, ValidationFailed, VersionConflict
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec
from storyreel_script import script_rules as rules
from storyreel_script.drama_store import DramaStore
from storyreel_script.script_versions import ScriptVersions

SCRIPTS = "scripts"
INDEXES = (IndexSpec(("owner_id", "drama_id", "created_at")),)
EDITABLE = frozenset({"title", "content", "scenes", "metadata", "status"})
RESTORED = ("title", "content", "scenes", "metadata")  # the status stays the script's own
_SAVE_ATTEMPTS = 5


def script_view(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored script as the API shows it (also the result of a generate task)."""
    scenes = doc.get("scenes") or []
    return {
        "id": doc["_id"],
        "drama_id": doc["drama_id"],
        "title": doc["title"],
        "content": doc["content"],
        "scenes": scenes,
        "metadata": doc.get("metadata") or {},
        "status": doc.get("status", "draft"),
        "version": int(doc["version"]),
        "scene_count": len(scenes),
        "word_count": rules.word_count(doc["content"]),
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
    }


def _checked(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed(f"not editable: {sorted(unknown)}", field=sorted(unknown)[0])
    out = dict(changes)
    if "title" in out:
        out["title"] = rules.check_title(out["title"])
    if "content" in out:
        out["content"] = rules.check_content(out["content"])
    if "status" in out:
        out["status"] = rules.check_status(out["status"])
    return out


class ScriptStore:
    def __init__(self, docs: DocumentStore, dramas: DramaStore) -> None:
        self.docs = docs
        self.dramas = dramas
        self.versions = ScriptVersions(docs)

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(SCRIPTS, INDEXES)
        await self.versions.ensure_indexes()

    async def _find(self, owner_id: str, drama_id: str, script_id: str) -> dict[str, Any]:
        doc = await self.docs.find_one(
            SCRIPTS, {"_id": script_id, "owner_id": owner_id, "drama_id": drama_id}
        )
        if doc is None:
            raise NotFound(f"script {script_id} not found", field="script_id")
        return doc

    async def create(
        self,
        owner_id: str,
        drama_id: str,
        *,
        title: str,
        content: str,
        scenes: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        status: str = "draft",
        message: str = "created",
        script_id: str | None = None,
    ) -> dict[str, Any]:
        """A new script at version 1. With `script_id` (a job's output key) a rerun is a no-op."""
        await self.dramas.get(owner_id, drama_id)
        now = utc_now()
        doc = {
            "_id": script_id or new_id("script"),
            "owner_id": owner_id,
            "drama_id": drama_id,
            "title": rules.check_title(title),
            "content": rules.check_content(content),
            "scenes": scenes or [],
            "metadata": metadata or {},
            "status": rules.check_status(status),
            "created_at": now,
            "updated_at": now,
        }
        try:
            stored = await self.docs.insert(SCRIPTS, doc)
        except AlreadyExists:
            if script_id is None:
                raise
            stored = await self._find(owner_id, drama_id, script_id)
        await self.versions.record(stored, rules.check_message(message) or "created")
        return stored

    async def get(self, owner_id: str, drama_id: str, script_id: str) -> dict[str, Any]:
        await self.dramas.get(owner_id, drama_id)
        return await self._find(owner_id, drama_id, script_id)

    async def list_scripts(
        self, owner_id: str, drama_id: str, *, page: int, per_page: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Newest first."""
        await self.dramas.get(owner_id, drama_id)
        flt = {"owner_id": owner_id, "drama_id": drama_id}
        total = await self.docs.count(SCRIPTS, flt)
        items = await self.docs.find(
            SCRIPTS,
            flt,
            sort=[("created_at", -1), ("_id", -1)],
            skip=(page - 1) * per_page,
            limit=per_page,
        )
        return items, total

    async def update(
        self,
        owner_id: str,
        drama_id: str,
        script_id: str,
        changes: dict[str, Any],
        *,
        expected_version: int | None = None,
        message: str = "",
    ) -> dict[str, Any]:
        """Save `changes` (fields absent stay) as a new version.

        With `expected_version` a save from a stale copy is refused (VersionConflict → 409);
        without it, concurrent saves are serialised and each still gets its own version.
        """
        current = await self.get(owner_id, drama_id, script_id)
        fields = _checked(changes)
        for _attempt in range(_SAVE_ATTEMPTS):
            version = int(current["version"])
            if expected_version is not None and expected_version != version:
                raise VersionConflict(
                    f"script {script_id} is at version {version}, yours is {expected_version}",
                    field="version",
                )
            updated = {**current, **fields, "updated_at": utc_now()}
            try:
                stored = await self.docs.replace(SCRIPTS, updated, expected_version=version)
                break
            except VersionConflict:
                current = await self._find(owner_id, drama_id, script_id)
        else:
            raise VersionConflict(f"script {script_id} kept changing; try again", field="version")
        await self.versions.record(stored, rules.check_message(message) or "updated")
        return stored

    async def list_versions(
        self, owner_id: str, drama_id: str, script_id: str, *, page: int, per_page: int
    ) -> tuple[list[dict[str, Any]], int]:
        await self.get(owner_id, drama_id, script_id)
        return await self.versions.list(owner_id, drama_id, script_id, page=page, per_page=per_page)

    async def restore(
        self,
        owner_id: str,
        drama_id: str,
        script_id: str,
        ver_id: str,
        *,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Copy a version's snapshot into a NEW version; the history stays as it was."""
        await self.get(owner_id, drama_id, script_id)
        snapshot = await self.versions.get(owner_id, drama_id, script_id, ver_id)
        changes = {name: snapshot[name] for name in RESTORED if snapshot.get(name) is not None}
        return await self.update(
            owner_id,
            drama_id,
            script_id,
            changes,
            expected_version=expected_version,
            message=f"restored from version {snapshot['number']}",
        )

    async def delete(self, owner_id: str, drama_id: str, script_id: str) -> None:
        await self.get(owner_id, drama_id, script_id)
        await self.versions.delete_for_script(owner_id, drama_id, script_id)
        await self.docs.delete(SCRIPTS, script_id)

    async def delete_drama_content(self, owner_id: str, drama_id: str) -> int:
        """Remove every script and version of a drama (idempotent; for drama deletion and the
        `drama.deleted` event). Does not check the drama, which may already be gone."""
        await self.versions.delete_for_drama(owner_id, drama_id)
        return await self.docs.delete_many(SCRIPTS, {"owner_id": owner_id, "drama_id": drama_id})
