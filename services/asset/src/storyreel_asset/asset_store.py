"""The asset library of a drama: uploaded files and generated designs (character, prop, scene).

Tags are matched "any of": the document filter language has no array containment that runs on
both SQLite and MongoDB, so each (asset, tag) pair is also a row of `asset_tags`, and a tag
filter is two equality/`$in` queries. Media sit under `dramas/<drama>/assets/<asset>/`.
"""

from __future__ import annotations

from typing import Any

from storyreel_asset.upload_check import MEDIA_TYPES
from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, NotFound, ValidationFailed
from storyreel_core.stores.document_store import DocumentStore, IndexSpec
from storyreel_core.stores.object_store import ObjectStore

ASSETS = "assets"
ASSET_TAGS = "asset_tags"
INDEXES = (
    IndexSpec(("owner_id", "drama_id", "created_at")),
    IndexSpec(("drama_id", "kind")),
    IndexSpec(("drama_id", "media_type")),
)
TAG_INDEXES = (IndexSpec(("drama_id", "tag")), IndexSpec(("asset_id",)))
DESIGN_KINDS = ("character", "prop", "scene")
MAX_TAGS = 20


def media_prefix(drama_id: str, asset_id: str) -> str:
    return f"dramas/{drama_id}/assets/{asset_id}/"


def clean_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            continue
        if len(tag) > 40:
            raise ValidationFailed("a tag is at most 40 characters", field="tags")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise ValidationFailed(f"at most {MAX_TAGS} tags", field="tags")
    return out


def type_filter(value: str) -> dict[str, Any]:
    if not value:
        return {}
    if value in MEDIA_TYPES:
        return {"media_type": value}
    if value in DESIGN_KINDS:
        return {"kind": value}
    allowed = ", ".join([*MEDIA_TYPES, *DESIGN_KINDS])
    raise ValidationFailed(f"type must be one of {allowed}", field="type")


class AssetStore:
    def __init__(self, docs: DocumentStore, objects: ObjectStore) -> None:
        self.docs = docs
        self.objects = objects

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(ASSETS, INDEXES)
        await self.docs.ensure_indexes(ASSET_TAGS, TAG_INDEXES)

    async def put(self, owner_id: str, drama_id: str, asset: dict[str, Any]) -> dict[str, Any]:
        """Store a new asset (`_id` given by the caller); the same id again replaces it."""
        now = utc_now()
        tags = clean_tags(asset.get("tags", []))
        doc = {
            "kind": "",
            "description": "",
            "prompt": "",
            "thumbnail_key": "",
            "width": 0,
            "height": 0,
            "status": "completed",
            **asset,
            "tags": tags,
            "owner_id": owner_id,
            "drama_id": drama_id,
            "created_at": now,
            "updated_at": now,
        }
        try:
            stored = await self.docs.insert(ASSETS, doc)
        except AlreadyExists:  # a redelivered job writes the same asset again
            current = await self.docs.get(ASSETS, doc["_id"])
            if current is None or current["owner_id"] != owner_id:
                raise
            doc["created_at"] = current["created_at"]
            stored = await self.docs.replace(ASSETS, {**doc, "version": current["version"]})
        await self.docs.delete_many(ASSET_TAGS, {"asset_id": doc["_id"]})
        for tag in tags:
            await self.docs.insert(
                ASSET_TAGS,
                {
                    "_id": f"{doc['_id']}~{tag}",
                    "asset_id": doc["_id"],
                    "drama_id": drama_id,
                    "owner_id": owner_id,
                    "tag": tag,
                },
            )
        return stored

    async def get(self, owner_id: str, drama_id: str, asset_id: str) -> dict[str, Any]:
        doc = await self.docs.find_one(
            ASSETS, {"_id": asset_id, "owner_id": owner_id, "drama_id": drama_id}
        )
        if doc is None:
            raise NotFound(f"asset {asset_id} not found", field="asset_id")
        return doc

    async def list_page(
        self,
        owner_id: str,
        drama_id: str,
        *,
        page: int,
        per_page: int,
        type: str = "",
        tags: list[str] | None = None,
        keyword: str = "",
    ) -> tuple[list[dict[str, Any]], int]:
        flt: dict[str, Any] = {"owner_id": owner_id, "drama_id": drama_id, **type_filter(type)}
        if keyword:
            flt["name"] = {"$regex": keyword}
        wanted = clean_tags(tags or [])
        if wanted:
            rows = await self.docs.find(
                ASSET_TAGS, {"owner_id": owner_id, "drama_id": drama_id, "tag": {"$in": wanted}}
            )
            flt["_id"] = {"$in": sorted({r["asset_id"] for r in rows})}
        total = await self.docs.count(ASSETS, flt)
        items = await self.docs.find(
            ASSETS,
            flt,
            sort=[("created_at", -1)],
            skip=(page - 1) * per_page,
            limit=per_page,
        )
        return items, total

    async def delete(self, owner_id: str, drama_id: str, asset_id: str) -> None:
        await self.get(owner_id, drama_id, asset_id)
        await self.docs.delete(ASSETS, asset_id)
        await self.docs.delete_many(ASSET_TAGS, {"asset_id": asset_id})
        await self.objects.delete_prefix(media_prefix(drama_id, asset_id))

    async def delete_drama(self, owner_id: str, drama_id: str) -> int:
        flt = {"owner_id": owner_id, "drama_id": drama_id}
        count = await self.docs.delete_many(ASSETS, flt)
        await self.docs.delete_many(ASSET_TAGS, flt)
        await self.objects.delete_prefix(f"dramas/{drama_id}/assets/")
        return count
