"""Videos of a drama: the repository (every read and write of the `videos` collection and of
their media).

Each video fills a *slot* of its drama, unique per drama: `clip:<storyboard>` for a storyboard's
clip, `concat:<task>` and `final:<task>` for what a task made. Saving into a taken slot replaces
that video in place (same id, new media, old media deleted), so regenerating a clip, or a
redelivered job, never leaves a duplicate. Media keys carry the task id
(`dramas/<drama>/videos/<video>/<task>.mp4`): a rerun of one task overwrites its own files, a
newer task's files never collide with the ones a player may still be streaming.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, NotFound, VersionConflict
from storyreel_core.ids import new_id
from storyreel_core.logging import get_logger
from storyreel_core.stores.document_store import DocumentStore, IndexSpec
from storyreel_core.stores.object_store import ObjectStore

log = get_logger("storyreel.video.store")

VIDEOS = "videos"
INDEXES = (
    IndexSpec(("drama_id", "slot"), unique=True, name="ux_videos_drama_slot"),
    IndexSpec(("owner_id", "drama_id", "created_at")),
)
MEDIA_FIELDS = ("key", "thumbnail_key", "subtitle_key", "ass_key")


@dataclass(frozen=True)
class MediaFile:
    """A local output to store: which document field names it, its extension and type."""

    field: str
    path: Path
    suffix: str
    content_type: str


def drama_prefix(drama_id: str) -> str:
    return f"dramas/{drama_id}/videos/"


def media_prefix(drama_id: str, video_id: str) -> str:
    return f"{drama_prefix(drama_id)}{video_id}/"


def clip_slot(storyboard_id: str) -> str:
    return f"clip:{storyboard_id}"


class VideoStore:
    def __init__(self, docs: DocumentStore, objects: ObjectStore) -> None:
        self.docs = docs
        self.objects = objects

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(VIDEOS, INDEXES)

    async def save(
        self,
        owner_id: str,
        drama_id: str,
        *,
        slot: str,
        task_id: str,
        files: Sequence[MediaFile],
        fields: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Store the media and write the video of `slot`, creating it or replacing it in place.

        The media go up first and the document second, so a reader never sees a document whose
        files are missing; a lost race for a new slot removes the loser's files and retries
        against the winner.
        """
        for _attempt in range(8):
            existing = await self.docs.find_one(VIDEOS, {"drama_id": drama_id, "slot": slot})
            video_id = existing["_id"] if existing else new_id("video")
            prefix = media_prefix(drama_id, video_id)
            keys: dict[str, str] = dict.fromkeys(MEDIA_FIELDS, "")
            size = 0
            for media in files:
                key = f"{prefix}{task_id}{media.suffix}"
                info = await self.objects.put_file(key, media.path, media.content_type)
                keys[media.field] = key
                if media.field == "key":
                    size = info.size
            now = utc_now()
            doc: dict[str, Any] = {
                **(existing or {}),
                **fields,
                **keys,
                "_id": video_id,
                "owner_id": owner_id,
                "drama_id": drama_id,
                "slot": slot,
                "task_id": task_id,
                "file_size": size,
                "created_at": existing["created_at"] if existing else now,
                "updated_at": now,
            }
            try:
                if existing is None:
                    saved = await self.docs.insert(VIDEOS, doc)
                else:
                    saved = await self.docs.replace(
                        VIDEOS, doc, expected_version=existing["version"]
                    )
            except (AlreadyExists, VersionConflict):
                if existing is None:
                    await self.objects.delete_prefix(prefix)
                continue
            if existing is not None:
                await self._delete_keys(
                    existing.get(f) for f in MEDIA_FIELDS if existing.get(f) != keys[f]
                )
            log.info("video.saved", video_id=video_id, slot=slot, replaced=existing is not None)
            return saved
        raise VersionConflict(f"video slot {slot} kept changing; try again", field="slot")

    async def _delete_keys(self, keys: Any) -> None:
        for key in keys:
            if key:
                with contextlib.suppress(Exception):  # a leftover file is harmless; log only
                    await self.objects.delete(key)

    async def get(self, owner_id: str, drama_id: str, video_id: str) -> dict[str, Any]:
        doc = await self.docs.find_one(
            VIDEOS, {"_id": video_id, "owner_id": owner_id, "drama_id": drama_id}
        )
        if doc is None:
            raise NotFound(f"video {video_id} not found", field="video_id")
        return doc

    async def list_page(
        self, owner_id: str, drama_id: str, *, page: int, per_page: int, kind: str = ""
    ) -> tuple[list[dict[str, Any]], int]:
        flt: dict[str, Any] = {"owner_id": owner_id, "drama_id": drama_id}
        if kind:
            flt["kind"] = kind
        total = await self.docs.count(VIDEOS, flt)
        items = await self.docs.find(
            VIDEOS,
            flt,
            sort=[("created_at", 1)],
            skip=(page - 1) * per_page,
            limit=per_page,
        )
        return items, total

    async def many(self, owner_id: str, drama_id: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The videos named, in the order asked (repeats allowed); NotFound names the first
        id that is not one of the caller's videos of this drama."""
        wanted = list(dict.fromkeys(ids))
        found = await self.docs.find(
            VIDEOS, {"owner_id": owner_id, "drama_id": drama_id, "_id": {"$in": wanted}}
        )
        by_id = {d["_id"]: d for d in found}
        for video_id in wanted:
            if video_id not in by_id:
                raise NotFound(f"video {video_id} not found", field="video_ids")
        return [by_id[i] for i in ids]

    async def delete_drama_content(self, owner_id: str, drama_id: str) -> None:
        """Forget every video of the drama and its media; a second call finds nothing to do.

        Called once per `drama.deleted` event (at least once), after the drama is gone, so it
        asks no one: the owner scopes the documents, the drama's prefix the media."""
        videos = await self.docs.delete_many(VIDEOS, {"owner_id": owner_id, "drama_id": drama_id})
        objects = await self.objects.delete_prefix(drama_prefix(drama_id))
        log.info("video.drama_content_deleted", drama_id=drama_id, videos=videos, objects=objects)
