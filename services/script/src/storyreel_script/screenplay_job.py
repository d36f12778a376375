"""The `screenplay` job: story text in, a Screenplay out (stored as the task result).

`ai_provider` (+ `model`) picks a configured text provider; empty or `offline` is the
rule-based screenwriter. The result adds who wrote it (`generator`) and the provider calls'
`usage` and `cost`; `budget` caps the spend in US dollars.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import Language
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_script import script_writer


class ScreenplayInput(BaseModel):
    story: str = Field(min_length=1, max_length=200_000)
    style: str = ""
    scene_count: int | None = Field(default=None, ge=1, le=30)
    seed: int = 0
    language: Language | None = None
    ai_provider: str = Field(default="", max_length=64)
    model: str = Field(default="", max_length=200)
    budget: float | None = Field(default=None, ge=0)
    # A persona's instructions for an LLM screenwriter (persona_text.persona_prompt).
    persona_prompt: str = Field(default="", max_length=4000)


class ScreenplayWriter:
    """The job handler; holds the process's provider registry."""

    def __init__(self, providers: ProviderRegistry) -> None:
        self.providers = providers

    async def run(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = ScreenplayInput.model_validate(job.payload)
        choice = script_writer.choose(self.providers, spec.ai_provider, spec.model)
        await ctx.progress(0, 1, "writing screenplay")
        written = await script_writer.write(
            self.providers,
            choice,
            spec.story,
            scene_count=spec.scene_count,
            style=spec.style,
            seed=spec.seed,
            language=spec.language,
            budget=spec.budget,
            persona_prompt=spec.persona_prompt,
        )
        return {"screenplay": written.screenplay.model_dump(mode="json"), **written.report()}
