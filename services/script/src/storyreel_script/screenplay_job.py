"""The `screenplay` job: story text in, a Screenplay out (stored as the task result)."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import Language
from storyreel_script.screenwriter import write_screenplay


class ScreenplayInput(BaseModel):
    story: str = Field(min_length=1, max_length=200_000)
    style: str = ""
    scene_count: int | None = Field(default=None, ge=1, le=30)
    seed: int = 0
    language: Language | None = None


async def run_screenplay(job: Job, ctx: JobContext) -> dict[str, Any]:
    spec = ScreenplayInput.model_validate(job.payload)
    await ctx.progress(0, 1, "writing screenplay")
    # jieba and the rules are CPU work: keep them off the event loop.
    screenplay = await asyncio.to_thread(
        write_screenplay,
        spec.story,
        scene_count=spec.scene_count,
        style=spec.style,
        seed=spec.seed,
        language=spec.language,
    )
    return {"screenplay": screenplay.model_dump(mode="json")}
