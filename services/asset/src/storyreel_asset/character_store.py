"""Characters of a drama: the repository (all storage access) and the rules around it.

Every query carries the owner and the drama, so another user's character id is simply not
found. A character's images live in the document (`images`, `default_image_id`); their media
sit under `dramas/<drama>/characters/<character>/`, one prefix to delete.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, NotFound, ValidationFailed, VersionConflict
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec
from storyreel_core.stores.object_store import ObjectStore

CHARACTERS = "characters"
INDEXES = (
    IndexSpec(("drama_id", "name"), unique=True, name="ux_characters_drama_name"),
    IndexSpec(("owner_id", "drama_id", "created_at")),
)
GENDERS = frozenset({"male", "female", "unknown", ""})
EDITABLE = ("name", "description", "gender", "age_range", "image_prompt")
MAX_IMAGES = 50

Gender = Literal["male", "female", "unknown"]


def media_prefix(drama_id: str, character_id: str) -> str:
    return f"dramas/{drama_id}/characters/{character_id}/"


def _check(fields: dict[str, Any]) -> dict[str, Any]:
    if "name" in fields:
        fields["name"] = str(fields["name"]).strip()
        if not 1 <= len(fields["name"]) <= 100:
            raise ValidationFailed("name must be 1-100 characters", field="name")
    if "gender" in fields and fields["gender"] not in GENDERS:
        raise ValidationFailed("gender must be male, female or unknown", field="gender")
    for name, limit in (("description", 5000), ("age_range", 40), ("image_prompt", 2000)):
        if name in fields and len(fields[name]) > limit:
            raise ValidationFailed(f"{name} is longer than {limit} characters", field=name)
    return fields


def _duplicate(name: str, exc: AlreadyExists) -> AlreadyExists:
    return AlreadyExists(f"a character named {name!r} already exists in this drama", field="name")


class CharacterStore:
    def __init__(self, docs: DocumentStore, objects: ObjectStore) -> None:
        self.docs = docs
        self.objects = objects

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(CHARACTERS, INDEXES)

    async def create(self, owner_id: str, drama_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        fields = _check({k: fields.get(k, "") for k in EDITABLE})
        now = utc_now()
        doc = {
            "_id": new_id("char"),
            "owner_id": owner_id,
            "drama_id": drama_id,
            **fields,
            "gender": fields["gender"] or "unknown",
            "default_image_id": "",
            "images": [],
            "created_at": now,
            "updated_at": now,
        }
        try:
            return await self.docs.insert(CHARACTERS, doc)
        except AlreadyExists as exc:
            raise _duplicate(fields["name"], exc) from exc

    async def get(self, owner_id: str, drama_id: str, character_id: str) -> dict[str, Any]:
        doc = await self.docs.find_one(
            CHARACTERS, {"_id": character_id, "owner_id": owner_id, "drama_id": drama_id}
        )
        if doc is None:
            raise NotFound(f"character {character_id} not found", field="character_id")
        return doc

    async def list_page(
        self, owner_id: str, drama_id: str, *, page: int, per_page: int, keyword: str = ""
    ) -> tuple[list[dict[str, Any]], int]:
        flt: dict[str, Any] = {"owner_id": owner_id, "drama_id": drama_id}
        if keyword:
            flt["name"] = {"$regex": keyword}
        total = await self.docs.count(CHARACTERS, flt)
        items = await self.docs.find(
            CHARACTERS,
            flt,
            sort=[("created_at", 1), ("name", 1)],
            skip=(page - 1) * per_page,
            limit=per_page,
        )
        return items, total

    async def many(self, owner_id: str, drama_id: str, ids: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        flt = {"owner_id": owner_id, "drama_id": drama_id, "_id": {"$in": ids}}
        return await self.docs.find(CHARACTERS, flt, sort=[("created_at", 1)])

    async def update(
        self,
        owner_id: str,
        drama_id: str,
        character_id: str,
        changes: dict[str, Any],
        *,
        replace: bool,
        expected_version: int | None,
    ) -> dict[str, Any]:
        current = await self.get(owner_id, drama_id, character_id)
        default_image = changes.pop("default_image_id", None)
        if replace:
            if "name" not in changes:
                raise ValidationFailed("PUT replaces the character: name is required", field="name")
            changes = {k: changes.get(k, "") for k in EDITABLE}
        changes = _check(changes)
        if "gender" in changes:
            changes["gender"] = changes["gender"] or "unknown"
        if default_image is not None:
            if default_image and default_image not in {i["id"] for i in current["images"]}:
                raise NotFound(f"image {default_image} not found", field="default_image_id")
            changes["default_image_id"] = default_image
        updated = {**current, **changes, "updated_at": utc_now()}
        try:
            return await self.docs.replace(CHARACTERS, updated, expected_version=expected_version)
        except AlreadyExists as exc:
            raise _duplicate(changes.get("name", ""), exc) from exc

    async def _mutate(
        self,
        owner_id: str,
        drama_id: str,
        character_id: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        """Read, change, write with a version check; retried when a concurrent write won."""
        for _attempt in range(8):
            current = await self.get(owner_id, drama_id, character_id)
            updated = {**change(dict(current)), "updated_at": utc_now()}
            try:
                return await self.docs.replace(
                    CHARACTERS, updated, expected_version=current["version"]
                )
            except VersionConflict:
                continue
        raise VersionConflict(f"character {character_id} kept changing; try again")

    async def add_image(
        self,
        owner_id: str,
        drama_id: str,
        character_id: str,
        image: dict[str, Any],
        *,
        make_default: bool,
    ) -> dict[str, Any]:
        """Add (or, for the same id, replace) an image; the first one becomes the default."""

        def change(doc: dict[str, Any]) -> dict[str, Any]:
            images = [i for i in doc["images"] if i["id"] != image["id"]]
            if len(images) >= MAX_IMAGES:
                raise ValidationFailed(
                    f"a character keeps at most {MAX_IMAGES} images", field="images"
                )
            doc["images"] = [*images, image]
            if make_default or not doc.get("default_image_id"):
                doc["default_image_id"] = image["id"]
            return doc

        return await self._mutate(owner_id, drama_id, character_id, change)

    async def delete(self, owner_id: str, drama_id: str, character_id: str) -> None:
        await self.get(owner_id, drama_id, character_id)
        await self.docs.delete(CHARACTERS, character_id)
        await self.objects.delete_prefix(media_prefix(drama_id, character_id))

    async def delete_many(self, owner_id: str, drama_id: str, ids: list[str]) -> list[str]:
        found = await self.many(owner_id, drama_id, ids)
        deleted: list[str] = []
        for doc in found:
            if await self.docs.delete(CHARACTERS, doc["_id"]):
                deleted.append(doc["_id"])
            await self.objects.delete_prefix(media_prefix(drama_id, doc["_id"]))
        return deleted

    async def delete_drama(self, owner_id: str, drama_id: str) -> int:
        count = await self.docs.delete_many(
            CHARACTERS, {"owner_id": owner_id, "drama_id": drama_id}
        )
        await self.objects.delete_prefix(f"dramas/{drama_id}/characters/")
        return count
