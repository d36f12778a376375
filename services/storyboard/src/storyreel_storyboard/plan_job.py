"""The `plan` job: a Screenplay in, a Storyboard of timed shots out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import Screenplay, ShotType
from storyreel_storyboard.shot_planner import plan_shots


class PlanInput(BaseModel):
    screenplay: Screenplay
    shots_per_scene: int = Field(default=1, ge=1, le=6)
    shot_type: ShotType | None = None
    seed: int = 0
    base_duration: float = Field(default=4.0, ge=1.0, le=30.0)


async def run_plan(job: Job, ctx: JobContext) -> dict[str, Any]:
    spec = PlanInput.model_validate(job.payload)
    await ctx.progress(0, 1, "planning shots")
    storyboard = plan_shots(
        spec.screenplay,
        shots_per_scene=spec.shots_per_scene,
        shot_type=spec.shot_type,
        seed=spec.seed,
        base_duration=spec.base_duration,
    )
    return {"storyboard": storyboard.model_dump(mode="json")}
