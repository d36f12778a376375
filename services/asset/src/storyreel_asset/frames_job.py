"""The `frames` job: one still per storyboard shot plus a reference sheet per character.

Keys are derived from the task and the shot, so a redelivered job overwrites its own frames.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from PIL import Image
from pydantic import BaseModel, Field

from storyreel_asset.procedural_renderer import render_character_sheet, render_frame
from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import Storyboard
from storyreel_core.stores.object_store import ObjectStore


class FramesInput(BaseModel):
    storyboard: Storyboard
    width: int = Field(default=720, ge=64, le=4096)
    height: int = Field(default=1280, ge=64, le=4096)
    style: str = ""
    seed: int = 0


def png_bytes(image: Image.Image) -> bytes:
    """Fast PNG: frames are intermediates, so speed beats size (compress_level=1)."""
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


class FramesJob:
    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = FramesInput.model_validate(job.payload)
        board = spec.storyboard
        style = spec.style or board.style
        total = len(board.shots) + len(board.characters)
        frames: list[dict[str, Any]] = []
        for i, shot in enumerate(board.shots):
            await ctx.progress(
                i,
                total,
                "drawing frames",
                current_item={"shot_id": shot.id, "status": "processing"},
            )
            image = await asyncio.to_thread(
                render_frame,
                shot,
                board.characters,
                style=style,
                width=spec.width,
                height=spec.height,
                seed=spec.seed,
            )
            key = f"renders/{job.task_id}/frames/{shot.id}.png"
            await self.objects.put_bytes(
                key, await asyncio.to_thread(png_bytes, image), "image/png"
            )
            frames.append({"shot_id": shot.id, "key": key})
        sheets: list[dict[str, Any]] = []
        side = max(256, min(spec.width, spec.height) // 2)
        for j, character in enumerate(board.characters):
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
