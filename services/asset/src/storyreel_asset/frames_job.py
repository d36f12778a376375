"""The `frames` job: one still per storyboard shot plus a reference sheet per character.

Keys are derived from the task and the shot, so a redelivered job overwrites its own frames.
Callers that keep frames of their own (the storyboard service) may skip the character sheets
and ask for a JPEG thumbnail beside each frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from typing import Any

from PIL import Image
from pydantic import BaseModel, Field

from storyreel_asset.frame_provider import FrameProvider, FrameRequest, ProceduralFrames
from storyreel_asset.procedural_renderer import render_character_sheet
from storyreel_asset.staged_upload import jpeg_thumbnail
from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import Storyboard
from storyreel_core.errors import NotFound
from storyreel_core.stores.object_store import ObjectStore


class FramesInput(BaseModel):
    storyboard: Storyboard
    width: int = Field(default=720, ge=64, le=4096)
    height: int = Field(default=1280, ge=64, le=4096)
    style: str = ""
    seed: int = 0
    character_sheets: bool = True
    thumbnail_width: int = Field(default=0, ge=0, le=1024, description="0: no thumbnails")
    # Character id → object key of its default image: what a model-backed provider conditions
    # on to draw the character as designed.
    references: dict[str, str] = Field(default_factory=dict)


def png_bytes(image: Image.Image) -> bytes:
    """Fast PNG: frames are intermediates, so speed beats size (compress_level=1)."""
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


class FramesJob:
    def __init__(self, objects: ObjectStore, provider: FrameProvider | None = None) -> None:
        self.objects = objects
        self.provider: FrameProvider = provider or ProceduralFrames()

    async def _references(self, keys: dict[str, str]) -> dict[str, bytes]:
        """Each reference image once per job (a character appears in many shots)."""
        found: dict[str, bytes] = {}
        for character_id, key in keys.items():
            with contextlib.suppress(NotFound):  # deleted since: drawn without a reference
                found[character_id] = await self.objects.get_bytes(key)
        return found

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = FramesInput.model_validate(job.payload)
        board = spec.storyboard
        style = spec.style or board.style
        sheet_cast = board.characters if spec.character_sheets else []
        total = len(board.shots) + len(sheet_cast)
        references = await self._references(spec.references)
        frames: list[dict[str, Any]] = []
        for i, shot in enumerate(board.shots):
            await ctx.progress(
                i,
                total,
                "drawing frames",
                current_item={"shot_id": shot.id, "status": "processing"},
            )
            image = await self.provider.draw(
                FrameRequest(
                    shot=shot,
                    cast=board.characters,
                    style=style,
                    width=spec.width,
                    height=spec.height,
                    seed=spec.seed,
                    references={
                        cid: references[cid] for cid in shot.character_ids if cid in references
                    },
                )
            )
            key = f"renders/{job.task_id}/frames/{shot.id}.png"
            await self.objects.put_bytes(
                key, await asyncio.to_thread(png_bytes, image), "image/png"
            )
            frame: dict[str, Any] = {"shot_id": shot.id, "key": key}
            if spec.thumbnail_width:
                thumb = await asyncio.to_thread(jpeg_thumbnail, image, spec.thumbnail_width)
                frame["thumbnail_key"] = f"renders/{job.task_id}/frames/{shot.id}_thumb.jpg"
                await self.objects.put_bytes(frame["thumbnail_key"], thumb, "image/jpeg")
            frames.append(frame)
        sheets: list[dict[str, Any]] = []
        side = max(256, min(spec.width, spec.height) // 2)
        for j, character in enumerate(sheet_cast):
            await ctx.progress(len(board.shots) + j, total, "drawing characters")
            image = await asyncio.to_thread(
                render_character_sheet,
                character,
                style=style,
                width=side,
                height=side * 4 // 3,
                seed=spec.seed,
            )
            key = f"renders/{job.task_id}/characters/{character.id}.png"
            await self.objects.put_bytes(
                key, await asyncio.to_thread(png_bytes, image), "image/png"
            )
            sheets.append({"character_id": character.id, "name": character.name, "key": key})
        return {"frames": frames, "characters": sheets}
