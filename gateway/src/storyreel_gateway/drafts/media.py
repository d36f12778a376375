"""Seed 004's media service: uploaded and generated images, generated videos.

- Upload: the file's first bytes decide its type (PNG, JPEG, WebP or GIF, else 415/3002); Pillow
  reads its size from the header under the same pixel limit as every upload (40 MP), and it is
  stored under `media/<owner>/images/<id>.<ext>`.
- Image generation: the asset service's `frames` stage draws one shot whose prompt is the
  request's, at the asked size, through the image provider the `model` belongs to (offline:
  the procedural renderer). Reference images are the shot's cast: a model-backed provider
  conditions on them as on a character's sheet.
- Video generation: the video service's final cut of one explicit shot (`RenderFinalCut`, job
  kind `final_cut`) animates one still (an uploaded or generated image) for `seconds`, through
  the video provider the `model` belongs to (offline: a camera move over the still), without
  music.

The document keeps the task id; a read of an unfinished item looks at its task and, once it
has completed, records the file's key (so later reads need no task).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
from typing import Any

from PIL import Image, UnidentifiedImageError

from storyreel_core.errors import AppError, NotFound, ValidationFailed
from storyreel_core.staged_files import sniff, unsupported
from storyreel_core.task_store import TERMINAL
from storyreel_gateway.drafts import stages
from storyreel_gateway.drafts.documents import DraftDocuments
from storyreel_gateway.state import GatewayState

MAX_PIXELS = 40_000_000
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def image_size(data: bytes) -> tuple[str, int, int]:
    """(content type, width, height) of an image by its content; 415 (3002) otherwise."""
    found = sniff(data[:64])
    if found is None or found[0] != "image":
        raise unsupported("not a PNG, JPEG, WebP or GIF image")
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise unsupported(f"{width}x{height} is over {MAX_PIXELS} pixels")
            image.verify()
    except AppError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise unsupported("the image cannot be read") from exc
    except Exception as exc:  # Pillow's decoders raise many kinds on a damaged file
        raise unsupported("the image cannot be read") from exc
    return found[1], width, height


def decode_base64_image(value: str, field: str) -> bytes:
    """A base64 image as sent in seed 004's `userImages` (a `data:` URL prefix is allowed)."""
    text = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed(
            f"{field} is neither an uploaded image id nor base64 image data", field=field
        ) from exc


class Media:
    def __init__(self, state: GatewayState, documents: DraftDocuments) -> None:
        self.state = state
        self.documents = documents

    async def store_image(
        self, owner_id: str, data: bytes, *, purpose: str = "reference", filename: str = ""
    ) -> dict[str, Any]:
        """Check and store an uploaded image; its media document."""
        content_type, width, height = await asyncio.to_thread(image_size, data)
        doc = await self.documents.create_media(
            owner_id,
            "image",
            {
                "source": "upload",
                "purpose": purpose,
                "filename": filename[:255],
                "content_type": content_type,
                "width": width,
                "height": height,
                "size": len(data),
                "status": "completed",
                "task_id": None,
                "key": None,
            },
        )
        key = f"media/{owner_id}/images/{doc['_id']}.{EXTENSIONS[content_type]}"
        await self.state.objects.put_bytes(key, data, content_type)
        return await self.documents.update_media(doc["_id"], {"key": key})

    async def image_keys(self, owner_id: str, values: list[str], field: str) -> list[str]:
        """Object keys of images named by id (the caller's, completed) or sent as base64."""
        keys = []
        for i, value in enumerate(values):
            if value.startswith("img_") and len(value) <= 100:
                doc = await self.refresh(await self.documents.media(owner_id, value, "image"))
                if not doc.get("key"):
                    raise ValidationFailed(f"image {value} is not ready", field=f"{field}.{i}")
                keys.append(doc["key"])
            else:
                data = decode_base64_image(value, f"{field}.{i}")
                doc = await self.store_image(owner_id, data, purpose="reference")
                keys.append(doc["key"])
        return keys

    async def generate_image(
        self,
        owner_id: str,
        *,
        prompt: str,
        width: int,
        height: int,
        provider: str,
        model: str,
        references: list[str],
        conversation_id: str | None = None,
    ) -> tuple[dict[str, Any], str]:
        choice = stages.choose_model(self.state.providers, "image", provider, model)
        keys = await self.image_keys(owner_id, references, "reference_images")
        cast = [
            {"id": f"char_ref{i}", "name": f"reference {i}", "gender": "unknown"}
            for i in range(1, len(keys) + 1)
        ]
        payload = {
            "storyboard": {
                "language": "en",
                "characters": cast,
                "shots": [
                    {
                        "id": "shot_1",
                        "number": 1,
                        "scene_id": "scene_1",
                        "prompt": prompt,
                        "description": prompt,
                        "character_ids": [c["id"] for c in cast],
                    }
                ],
            },
            "width": width,
            "height": height,
            "character_sheets": False,
            "references": {c["id"]: key for c, key in zip(cast, keys, strict=True)},
            "image_provider": "" if choice.offline else choice.provider,
            "image_model": "" if choice.offline else choice.model,
        }
        task_id = await stages.start_frames(self.state, owner_id, payload)
        doc = await self.documents.create_media(
            owner_id,
            "image",
            {
                "source": "generated",
                "prompt": prompt,
                "provider": choice.provider,
                "model": choice.model,
                "width": width,
                "height": height,
                "status": "pending",
                "task_id": task_id,
                "key": None,
                "conversation_id": conversation_id,
            },
        )
        return doc, task_id

    async def generate_video(
        self,
        owner_id: str,
        *,
        image_id: str,
        prompt: str,
        seconds: float,
        provider: str,
        model: str,
        size: tuple[int, int] | None,
        conversation_id: str | None = None,
    ) -> tuple[dict[str, Any], str]:
        choice = stages.choose_model(self.state.providers, "video", provider, model)
        image = await self.refresh(await self.documents.media(owner_id, image_id, "image"))
        if not image.get("key"):
            raise ValidationFailed(f"image {image_id} is not ready", field="image_id")
        # Even sides for H.264 4:2:0; the image's own size when none is asked for.
        width, height = size or (int(image["width"]), int(image["height"]))
        width, height = max(64, width - width % 2), max(64, height - height % 2)
        payload = {
            "cut_shots": {
                "shots": [
                    {
                        "shot_id": "shot_1",
                        "frame_key": image["key"],
                        "duration": seconds,
                        "camera_movement": "push_in",
                        "prompt": prompt,
                    }
                ]
            },
            "resolution": f"{width}x{height}",
            "music": {"enabled": False},
            "transition": "none",
            "video_provider": "" if choice.offline else choice.provider,
            "video_model": "" if choice.offline else choice.model,
        }
        task_id = await stages.start_final_cut(self.state, owner_id, payload)
        doc = await self.documents.create_media(
            owner_id,
            "video",
            {
                "source": "generated",
                "image_id": image_id,
                "prompt": prompt,
                "provider": choice.provider,
                "model": choice.model,
                "width": width,
                "height": height,
                "duration": seconds,
                "status": "pending",
                "task_id": task_id,
                "key": None,
                "conversation_id": conversation_id,
            },
        )
        return doc, task_id

    async def refresh(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The item with its task's outcome recorded once the task has finished."""
        if doc.get("status") in TERMINAL or not doc.get("task_id"):
            return doc
        try:
            task = await stages.read_task(self.state, doc["owner_id"], doc["task_id"])
        except NotFound:  # a deleted task: it made no file
            return await self.documents.update_media(
                doc["_id"], {"status": "failed", "error": {"reason": "its task was deleted"}}
            )
        if task["status"] not in TERMINAL:
            return {**doc, "status": task["status"], "progress": task["progress"]}
        changes: dict[str, Any] = {"status": task["status"]}
        result = task.get("result") or {}
        if task["status"] == "completed":
            if doc["kind"] == "image":
                frames = result.get("frames") or []
                changes["key"] = frames[0]["key"] if frames else None
                changes["size"] = frames[0].get("size") if frames else None  # bytes
            else:
                changes["key"] = result.get("video_key")
                changes["thumbnail_key"] = result.get("thumbnail_key")
                changes["duration"] = result.get("duration", doc.get("duration"))
                changes["size"] = result.get("file_size")
            if not changes["key"]:
                changes["status"] = "failed"
                changes["error"] = {"reason": "the task made no file"}
        else:
            changes["error"] = task.get("error") or {"reason": f"the task was {task['status']}"}
        return await self.documents.update_media(doc["_id"], changes)

    def view(self, doc: dict[str, Any], base_url: str) -> dict[str, Any]:
        """Seed 004's media item in our names, with a signed, expiring `url`."""
        signer = self.state.signer
        out: dict[str, Any] = {
            "id": doc["_id"],
            "kind": doc["kind"],
            "source": doc.get("source", "generated"),
            "status": doc.get("status", "pending"),
            "url": signer.sign(doc["key"], base_url) if doc.get("key") else None,
            "task_id": doc.get("task_id"),
            "prompt": doc.get("prompt"),
            "provider": doc.get("provider"),
            "model": doc.get("model"),
            "width": doc.get("width"),
            "height": doc.get("height"),
            "size": doc.get("size"),
            "error": doc.get("error"),
            "created_at": doc["created_at"],
            "updated_at": doc.get("updated_at", doc["created_at"]),
        }
        if doc["kind"] == "video":
            out["image_id"] = doc.get("image_id")
            out["duration"] = doc.get("duration")
            thumb = doc.get("thumbnail_key")
            out["thumbnail_url"] = signer.sign(thumb, base_url) if thumb else None
        return out
