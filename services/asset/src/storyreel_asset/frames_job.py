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

from storyreel_asset.bounded import map_bounded, usable_cores
from storyreel_asset.frame_provider import FrameProvider, FrameRequest, ProceduralFrames
from storyreel_asset.procedural_renderer import render_character_sheet
from storyreel_asset.staged_upload import jpeg_thumbnail
from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import Character, Shot, Storyboard
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
    def __init__(
        self,
        objects: ObjectStore,
        provider: FrameProvider | None = None,
        *,
        parallel: int | None = None,
    ) -> None:
        self.objects = objects
        self.provider: FrameProvider = provider or ProceduralFrames()
        self.parallel = parallel or usable_cores()

    async def _references(self, keys: dict[str, str]) -> dict[str, bytes]:
        """Each reference image once per job (a character appears in many shots)."""
        found: dict[str, bytes] = {}
        for character_id, key in keys.items():
            with contextlib.suppress(NotFound):  # deleted since: drawn without a reference
                found[character_id] = await self.objects.get_bytes(key)
        return found

    async def _frame(
        self, task_id: str, spec: FramesInput, shot: Shot, references: dict[str, bytes]
    ) -> dict[str, Any]:
        """Draw one shot and store it (and its thumbnail when asked)."""
        drawn = await self.provider.draw(
            FrameRequest(
                shot=shot,
                cast=spec.storyboard.characters,
                style=spec.style or spec.storyboard.style,
                width=spec.width,
                height=spec.height,
                seed=spec.seed,
                references={
                    cid: references[cid] for cid in shot.character_ids if cid in references
                },
            )
        )
        image = drawn.image
        key = f"renders/{task_id}/frames/{shot.id}.png"
        await self.objects.put_bytes(key, await asyncio.to_thread(png_bytes, image), "image/png")
        frame: dict[str, Any] = {
            "shot_id": shot.id,
            "key": key,
            "figures": [figure.model_dump() for figure in drawn.figures],
        }
        if spec.thumbnail_width:
            thumb = await asyncio.to_thread(jpeg_thumbnail, image, spec.thumbnail_width)
            frame["thumbnail_key"] = f"renders/{task_id}/frames/{shot.id}_thumb.jpg"
            await self.objects.put_bytes(frame["thumbnail_key"], thumb, "image/jpeg")
        return frame

    async def _sheet(self, task_id: str, spec: FramesInput, character: Character) -> dict[str, Any]:
        """A character's reference sheet, about half the frame's shorter side wide."""
        side = max(256, min(spec.width, spec.height) // 2)
        image = await asyncio.to_thread(
            render_character_sheet,
            character,
            style=spec.style or spec.storyboard.style,
            width=side,
            height=side * 4 // 3,
            seed=spec.seed,
        )
        key = f"renders/{task_id}/characters/{character.id}.png"
        await self.objects.put_bytes(key, await asyncio.to_thread(png_bytes, image), "image/png")
        return {"character_id": character.id, "name": character.name, "key": key}

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = FramesInput.model_validate(job.payload)
        board = spec.storyboard
        sheet_cast = board.characters if spec.character_sheets else []
        total = len(board.shots) + len(sheet_cast)
        references = await self._references(spec.references)
        done = 0

        async def frame(_: int, shot: Shot) -> dict[str, Any]:
            nonlocal done
            await ctx.progress(
                done,
                total,
                "drawing frames",
                current_item={"shot_id": shot.id, "status": "processing"},
            )
            result = await self._frame(job.task_id, spec, shot, references)
            done += 1
            return result

        async def sheet(_: int, character: Character) -> dict[str, Any]:
            nonlocal done
            await ctx.progress(done, total, "drawing characters")
            result = await self._sheet(job.task_id, spec, character)
            done += 1
            return result

        frames = await map_bounded(board.shots, frame, self.parallel)
        sheets = await map_bounded(sheet_cast, sheet, self.parallel)
        return {"frames": frames, "characters": sheets}
