"""Storyboards of a drama: the repository (all storage access) and the order they play in.

One document per shot (`storyboards`), owner- and drama-scoped like every query here, so
another user's id is simply not found. The drama's order is ONE document
(`storyboard_orders`, keyed by the drama) holding the ids in play order: a reorder, a delete or
a regeneration rewrites that single document with a version check, so concurrent edits can
never leave two shots at one position or a gap. Positions are therefore computed, not stored:
a shot's position is its 1-based place in the order. Readers reconcile the two collections —
ids in the order without a document are skipped, documents missing from the order (a job that
stopped between its two writes) follow the ordered ones by creation time — so a half-finished
write never hides a shot or leaves a hole.

Media of a shot live under `dramas/<drama>/storyboards/<storyboard>/`, one prefix to delete.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from storyreel_core.clock import utc_now
from storyreel_core.errors import (
    AlreadyExists,
    AppError,
    Code,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from storyreel_core.logging import get_logger
from storyreel_core.stores.document_store import DocumentStore, IndexSpec
from storyreel_core.stores.object_store import ObjectStore
from storyreel_storyboard.storyboard_fields import check_changes

log = get_logger("storyreel.storyboard.store")

STORYBOARDS = "storyboards"
ORDERS = "storyboard_orders"
INDEXES = (
    IndexSpec(("owner_id", "drama_id", "created_at")),
    IndexSpec(("drama_id", "script_id")),
)
ORDER_INDEXES = (IndexSpec(("owner_id", "drama_id")),)
MAX_PER_DRAMA = 1000
_ATTEMPTS = 8


def drama_media_prefix(drama_id: str) -> str:
    return f"dramas/{drama_id}/storyboards/"


def media_prefix(drama_id: str, storyboard_id: str) -> str:
    return f"{drama_media_prefix(drama_id)}{storyboard_id}/"


def arrange(order: Sequence[str], docs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`docs` in play order with `position` 1..n: ordered ids first, then the rest by age."""
    rank = {doc_id: i for i, doc_id in enumerate(order)}
    ranked = sorted(
        docs,
        key=lambda d: (
            (0, rank[d["_id"]], "", "") if d["_id"] in rank else (1, 0, d["created_at"], d["_id"])
        ),
    )
    return [{**doc, "position": i} for i, doc in enumerate(ranked, start=1)]


def _stored(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as written: `position` is derived on reads, never stored."""
    return {k: v for k, v in doc.items() if k != "position"}


class StoryboardStore:
    def __init__(self, docs: DocumentStore, objects: ObjectStore) -> None:
        self.docs = docs
        self.objects = objects

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(STORYBOARDS, INDEXES)
        await self.docs.ensure_indexes(ORDERS, ORDER_INDEXES)

    # ---- reads ---------------------------------------------------------------------------

    async def _order(self, owner_id: str, drama_id: str) -> dict[str, Any] | None:
        return await self.docs.find_one(
            ORDERS, {"_id": drama_id, "owner_id": owner_id, "drama_id": drama_id}
        )

    async def ordered(self, owner_id: str, drama_id: str) -> list[dict[str, Any]]:
        """Every storyboard of the drama in play order, each with its `position`."""
        docs = await self.docs.find(
            STORYBOARDS,
            {"owner_id": owner_id, "drama_id": drama_id},
            sort=[("created_at", 1), ("_id", 1)],
        )
        order = await self._order(owner_id, drama_id)
        return arrange(order["ids"] if order else [], docs)

    async def list_page(
        self, owner_id: str, drama_id: str, *, page: int, per_page: int, script_id: str = ""
    ) -> tuple[list[dict[str, Any]], int]:
        """A page in play order; with `script_id`, only that script's (positions stay global)."""
        items = await self.ordered(owner_id, drama_id)
        if script_id:
            items = [d for d in items if d.get("script_id") == script_id]
        start = (page - 1) * per_page
        return items[start : start + per_page], len(items)

    async def get(self, owner_id: str, drama_id: str, storyboard_id: str) -> dict[str, Any]:
        for doc in await self.ordered(owner_id, drama_id):
            if doc["_id"] == storyboard_id:
                return doc
        raise NotFound(f"storyboard {storyboard_id} not found", field="storyboard_id")

    async def _find(self, owner_id: str, drama_id: str, storyboard_id: str) -> dict[str, Any]:
        """The stored document alone (no position): for writes."""
        doc = await self.docs.find_one(
            STORYBOARDS, {"_id": storyboard_id, "owner_id": owner_id, "drama_id": drama_id}
        )
        if doc is None:
            raise NotFound(f"storyboard {storyboard_id} not found", field="storyboard_id")
        return doc

    async def many(self, owner_id: str, drama_id: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The storyboards `ids` names, in the order asked; NotFound names the first unknown."""
        by_id = {d["_id"]: d for d in await self.ordered(owner_id, drama_id)}
        for storyboard_id in ids:
            if storyboard_id not in by_id:
                raise NotFound(f"storyboard {storyboard_id} not found", field="ids")
        return [by_id[i] for i in ids]

    # ---- writes --------------------------------------------------------------------------

    async def insert_many(self, docs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Store new storyboards; an id already stored (a redelivered job) is kept as it is.

        They are not put in the order here: until `place` runs they follow the ordered ones.
        """
        stored: list[dict[str, Any]] = []
        for doc in docs:
            try:
                stored.append(await self.docs.insert(STORYBOARDS, _stored(doc)))
            except AlreadyExists:
                stored.append(await self._find(doc["owner_id"], doc["drama_id"], doc["_id"]))
        return stored

    async def _rewrite_order(
        self, owner_id: str, drama_id: str, change: Callable[[list[str]], list[str]]
    ) -> list[str]:
        """Apply `change` to the drama's order with a version check, retried on a race."""
        for _attempt in range(_ATTEMPTS):
            current = await self.docs.get(ORDERS, drama_id)
            if current is None:
                ids = change([])
                doc = {
                    "_id": drama_id,
                    "owner_id": owner_id,
                    "drama_id": drama_id,
                    "ids": ids,
                    "updated_at": utc_now(),
                }
                try:
                    await self.docs.insert(ORDERS, doc)
                    return ids
                except AlreadyExists:
                    continue
            if current.get("owner_id") != owner_id:
                raise NotFound(f"drama {drama_id} not found", field="drama_id")
            ids = change(list(current["ids"]))
            try:
                await self.docs.replace(
                    ORDERS,
                    {**current, "ids": ids, "updated_at": utc_now()},
                    expected_version=current["version"],
                )
                return ids
            except VersionConflict:
                continue
        raise VersionConflict("the storyboard order kept changing; try again", field="order")

    async def place(
        self, owner_id: str, drama_id: str, new_ids: Sequence[str], replacing: Sequence[str]
    ) -> None:
        """Put `new_ids` in the order where the first of `replacing` stood (else at the end)
        and take `replacing` out of it, in one write. Placing the same ids again (a redelivered
        job) leaves them where they are."""
        new, old = list(new_ids), set(replacing)
        arrival = set(new)

        def change(ids: list[str]) -> list[str]:
            slot = next((i for i, v in enumerate(ids) if v in old or v in arrival), len(ids))
            head = [v for v in ids[:slot] if v not in old and v not in arrival]
            tail = [v for v in ids[slot:] if v not in old and v not in arrival]
            return head + new + tail

        await self._rewrite_order(owner_id, drama_id, change)

    async def update(
        self,
        owner_id: str,
        drama_id: str,
        storyboard_id: str,
        changes: dict[str, Any],
        *,
        expected_version: int | None = None,
        checked: bool = False,
    ) -> dict[str, Any]:
        """Replace the fields in `changes`; a stale `expected_version` is a VersionConflict."""
        fields = changes if checked else check_changes(changes)
        for _attempt in range(_ATTEMPTS):
            current = await self._find(owner_id, drama_id, storyboard_id)
            version = int(current["version"])
            if expected_version is not None and expected_version != version:
                raise VersionConflict(
                    f"storyboard {storyboard_id} is at version {version}, "
                    f"yours is {expected_version}",
                    field="version",
                )
            updated = {**current, **fields, "updated_at": utc_now()}
            try:
                await self.docs.replace(STORYBOARDS, updated, expected_version=version)
                break
            except VersionConflict:
                continue
        else:
            raise VersionConflict(f"storyboard {storyboard_id} kept changing", field="version")
        return await self.get(owner_id, drama_id, storyboard_id)

    async def mutate(
        self,
        owner_id: str,
        drama_id: str,
        storyboard_id: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Read, change, write with a version check, retried on a race: (before, after)."""
        for _attempt in range(_ATTEMPTS):
            current = await self._find(owner_id, drama_id, storyboard_id)
            updated = {**change(dict(current)), "updated_at": utc_now()}
            try:
                await self.docs.replace(
                    STORYBOARDS, _stored(updated), expected_version=current["version"]
                )
            except VersionConflict:
                continue
            return current, await self.get(owner_id, drama_id, storyboard_id)
        raise VersionConflict(f"storyboard {storyboard_id} kept changing; try again")

    async def reorder(
        self, owner_id: str, drama_id: str, entries: Sequence[tuple[str, int]]
    ) -> list[dict[str, Any]]:
        """Set the whole order: every storyboard of the drama exactly once.

        Positions sort the storyboards (equal ones keep the order they were sent in) and the
        stored order is numbered 1..n whatever numbers were sent. An unknown id is 404, and a
        list that is not the drama's set once each (one missing, one twice) 409: it conflicts
        with the storyboards the drama has, which the request's schema cannot know.
        """
        ids = [storyboard_id for storyboard_id, _ in entries]
        if not ids:
            raise ValidationFailed("order must list every storyboard of the drama", field="order")
        ranked = sorted(enumerate(entries), key=lambda e: (e[1][1], e[0]))
        wanted = [storyboard_id for _, (storyboard_id, _) in ranked]
        for _attempt in range(_ATTEMPTS):
            current = await self.ordered(owner_id, drama_id)
            known = {d["_id"] for d in current}
            unknown = next((i for i in ids if i not in known), None)
            if unknown is not None:
                raise NotFound(f"storyboard {unknown} not found", field="order")
            if len(set(ids)) != len(ids):
                repeated = next(i for i in ids if ids.count(i) > 1)
                raise AppError(
                    f"storyboard {repeated} is listed twice", code=Code.EXISTS, field="order"
                )
            if len(ids) != len(known):
                raise AppError(
                    f"order must list all {len(known)} storyboards of the drama, "
                    f"it lists {len(ids)}",
                    code=Code.EXISTS,
                    field="order",
                )
            order = await self.docs.get(ORDERS, drama_id)
            doc = {
                "_id": drama_id,
                "owner_id": owner_id,
                "drama_id": drama_id,
                "ids": wanted,
                "updated_at": utc_now(),
            }
            try:
                if order is None:
                    await self.docs.insert(ORDERS, doc)
                else:
                    await self.docs.replace(ORDERS, doc, expected_version=order["version"])
            except (VersionConflict, AlreadyExists):
                continue  # the set may have changed: check it again
            return await self.ordered(owner_id, drama_id)
        raise VersionConflict("the storyboard order kept changing; try again", field="order")

    async def delete(self, owner_id: str, drama_id: str, storyboard_id: str) -> None:
        """Delete one storyboard and its media; the shots after it move up (no gap)."""
        await self._find(owner_id, drama_id, storyboard_id)
        await self._remove(owner_id, drama_id, [storyboard_id])

    async def _remove(self, owner_id: str, drama_id: str, ids: Sequence[str]) -> None:
        gone = set(ids)
        for storyboard_id in ids:
            await self.docs.delete(STORYBOARDS, storyboard_id)
        await self._rewrite_order(
            owner_id, drama_id, lambda order: [i for i in order if i not in gone]
        )
        for storyboard_id in ids:
            await self.objects.delete_prefix(media_prefix(drama_id, storyboard_id))

    async def replace_generated(
        self, owner_id: str, drama_id: str, script_id: str, new_ids: Sequence[str]
    ) -> list[str]:
        """Swap a script's earlier storyboards for `new_ids` (which take the place of the first
        of them, or the end of the order) and delete the earlier ones with their media."""
        keep = set(new_ids)
        earlier = [
            d["_id"]
            for d in await self.ordered(owner_id, drama_id)
            if d.get("script_id") == script_id and d["_id"] not in keep
        ]
        await self.place(owner_id, drama_id, new_ids, earlier)
        if earlier:
            await self._remove(owner_id, drama_id, earlier)
        return earlier

    async def count(self, owner_id: str, drama_id: str) -> int:
        return await self.docs.count(STORYBOARDS, {"owner_id": owner_id, "drama_id": drama_id})

    async def delete_drama_content(self, owner_id: str, drama_id: str) -> dict[str, int]:
        """Everything held for a drama: documents, the order and media (idempotent; the drama
        may already be gone, so nothing is asked of the script service)."""
        storyboards = await self.docs.delete_many(
            STORYBOARDS, {"owner_id": owner_id, "drama_id": drama_id}
        )
        await self.docs.delete_many(ORDERS, {"owner_id": owner_id, "drama_id": drama_id})
        objects = await self.objects.delete_prefix(drama_media_prefix(drama_id))
        log.info(
            "storyboard.drama_content_deleted",
            drama_id=drama_id,
            storyboards=storyboards,
            objects=objects,
        )
        return {"storyboards": storyboards, "objects": objects}
