"""Dramas: the repository (all storage access) and the rules around it.

Every query carries the owner, so one user's drama id is simply not found for another.
"""

from __future__ import annotations

from typing import Any, Literal

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, NotFound, ValidationFailed
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec

DRAMAS = "dramas"
ORDERABLE = frozenset({"created_at", "updated_at", "name"})
INDEXES = (
    IndexSpec(("owner_id", "name"), unique=True, name="ux_dramas_owner_name"),
    IndexSpec(("owner_id", "created_at")),
)


def _check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ValidationFailed("name must be 1-100 characters", field="name")
    return name


class DramaStore:
    def __init__(self, docs: DocumentStore) -> None:
        self.docs = docs

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(DRAMAS, INDEXES)

    async def create(
        self, owner_id: str, name: str, description: str, settings: dict[str, Any]
    ) -> dict[str, Any]:
        now = utc_now()
        doc = {
            "_id": new_id("drama"),
            "owner_id": owner_id,
            "name": _check_name(name),
            "description": description,
            "settings": settings,
            "status": "draft",
            "created_at": now,
            "updated_at": now,
        }
        try:
            return await self.docs.insert(DRAMAS, doc)
        except AlreadyExists as exc:
            raise AlreadyExists(f"a drama named {name!r} already exists", field="name") from exc

    async def get(self, owner_id: str, drama_id: str) -> dict[str, Any]:
        doc = await self.docs.find_one(DRAMAS, {"_id": drama_id, "owner_id": owner_id})
        if doc is None:
            raise NotFound(f"drama {drama_id} not found", field="drama_id")
        return doc

    async def list(
        self,
        owner_id: str,
        *,
        page: int,
        per_page: int,
        keyword: str = "",
        order_by: str = "created_at",
        order: Literal["asc", "desc"] = "desc",
    ) -> tuple[list[dict[str, Any]], int]:
        if order_by not in ORDERABLE:
            raise ValidationFailed(f"order_by must be one of {sorted(ORDERABLE)}", field="order_by")
        flt: dict[str, Any] = {"owner_id": owner_id}
        if keyword:
            flt["name"] = {"$regex": keyword}
        total = await self.docs.count(DRAMAS, flt)
        items = await self.docs.find(
            DRAMAS,
            flt,
            sort=[(order_by, 1 if order == "asc" else -1)],
            skip=(page - 1) * per_page,
            limit=per_page,
        )
        return items, total

    async def update(
        self,
        owner_id: str,
        drama_id: str,
        changes: dict[str, Any],
        *,
        replace: bool,
        expected_version: int | None,
    ) -> dict[str, Any]:
        current = await self.get(owner_id, drama_id)
        if "name" in changes:
            changes["name"] = _check_name(changes["name"])
        if replace:
            if "name" not in changes:
                raise ValidationFailed("PUT replaces the drama: name is required", field="name")
            changes = {
                "name": changes["name"],
                "description": changes.get("description", ""),
                "settings": changes.get("settings", {}),
            }
        updated = {**current, **changes, "updated_at": utc_now()}
        try:
            return await self.docs.replace(DRAMAS, updated, expected_version=expected_version)
        except AlreadyExists as exc:
            if exc.field == "version":
                raise
            raise AlreadyExists("a drama with that name already exists", field="name") from exc

    async def delete(self, owner_id: str, drama_id: str) -> None:
        await self.get(owner_id, drama_id)
        await self.docs.delete(DRAMAS, drama_id)
