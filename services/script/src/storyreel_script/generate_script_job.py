"""The `generate_script` job: a story source in, a stored script (version 1) out.

`plan_generation` turns the request into the job payload before any task exists, so bad input
is refused at once — an unknown `ai_provider`/`model` (400 naming the configured ones) or an
estimate above `budget` included; the job writes the screenplay with the chosen screenwriter
(`script_writer`), renders it as readable text and stores it under an id derived from the task
id (a redelivery finds it there). The script's metadata records the `generator` (provider and
model) and the task result adds the provider calls' `usage` and `cost`.

Without a `drama_id` nothing is stored: the result is the screenplay itself (`{screenplay,
generator, usage, cost, provider_calls}`), which is how a seed 004 draft gets its screenplay
before it is confirmed into a drama.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import Language
from storyreel_core.errors import AppError, Code, ValidationFailed
from storyreel_core.persona_text import persona_brief, persona_prompt, persona_style
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.story_language import story_language
from storyreel_script import script_rules as rules
from storyreel_script import script_writer
from storyreel_script.screenwriter import MAX_STORY_CHARS
from storyreel_script.script_render import render_screenplay
from storyreel_script.script_store import ScriptStore, script_view

MAX_SEED = 2**31 - 1  # seeds are 31-bit everywhere (the gateway's `Seed`)
MAX_SOURCE_BYTES = 1024 * 1024  # an uploaded or pasted source text: 1 MiB of UTF-8
InputType = Literal["prompt", "novel", "markdown"]
Length = Literal["short", "medium", "long"]


class GenerateScriptInput(BaseModel):
    # The drama the script is stored in; "" stores nothing (the screenplay is the result).
    drama_id: str = ""
    story: str = Field(min_length=1, max_length=MAX_STORY_CHARS)
    input_type: InputType = "prompt"
    prompt: str = ""
    style: str = Field(default="", max_length=100)
    length: Length = "medium"
    scene_count: int = Field(ge=1, le=30)
    language: Language | None = None
    title: str = Field(default="", max_length=rules.MAX_TITLE)
    source_name: str = Field(default="", max_length=255)
    source_chars: int = 0
    truncated: bool = False
    ai_provider: str = Field(default="", max_length=64)
    model: str = Field(default="", max_length=200)
    budget: float | None = Field(default=None, ge=0)
    # What the script records of its persona (persona_prompt.persona_brief), and its prompt.
    persona: dict[str, Any] | None = None
    persona_prompt: str = ""
    # Makes the offline screenwriter's choices repeatable (a render's `options.seed`).
    seed: int = Field(default=0, ge=0, le=MAX_SEED)


def check_source_size(text: str, field: str) -> None:
    if len(text.encode("utf-8")) > MAX_SOURCE_BYTES:
        raise AppError(
            f"{field} is larger than 1 MB", code=Code.FILE_TOO_LARGE, field=field, permanent=True
        )


def _fit(story: str) -> tuple[str, bool]:
    """Keep what the screenwriter reads (MAX_STORY_CHARS), cut at a paragraph when it can."""
    if len(story) <= MAX_STORY_CHARS:
        return story, False
    head = story[:MAX_STORY_CHARS]
    cut = head.rfind("\n")
    return (head[:cut] if cut > MAX_STORY_CHARS // 2 else head), True


def plan_generation(
    *,
    drama_id: str,
    prompt: str,
    input_type: str,
    input_content: str,
    style: str = "",
    length: str = "",
    language: str = "",
    title: str = "",
    scene_count: int = 0,
    source_name: str = "",
    ai_provider: str = "",
    model: str = "",
    budget: float | None = None,
    providers: ProviderRegistry | None = None,
    persona: dict[str, Any] | None = None,
    seed: int = 0,
) -> GenerateScriptInput:
    """Validate a generate request and pick the story text the screenwriter gets.

    With `providers`, `ai_provider`/`model` must name a configured text provider and the
    estimated cost must fit `budget` (ValidationFailed, 400, otherwise). A `persona`
    (document) supplies the style when none is given and is recorded with the script.
    """
    kind = input_type or "prompt"
    if kind not in rules.INPUT_TYPES:
        raise ValidationFailed(
            f"input_type must be one of {sorted(rules.INPUT_TYPES)}", field="input_type"
        )
    if language and language not in rules.LANGUAGES:
        raise ValidationFailed("language must be zh or en", field="language")
    check_source_size(prompt, "prompt")
    check_source_size(input_content, "input_content")
    source = input_content.lstrip("\ufeff")
    if kind == "prompt":
        story, field = (prompt, "prompt") if prompt.strip() else (source, "prompt")
    else:  # novel or Markdown: the document, else the prompt when no document came
        story, field = (source, "input_content") if source.strip() else (prompt, "input_content")
    if not story.strip():
        raise ValidationFailed(f"{field} must not be empty", field=field)
    fitted, truncated = _fit(story)
    if budget is not None and budget < 0:
        raise ValidationFailed("budget must be at least 0", field="budget")
    if not 0 <= seed <= MAX_SEED:
        raise ValidationFailed(f"seed must be 0-{MAX_SEED}", field="seed")
    spec = GenerateScriptInput.model_validate(
        {
            "drama_id": drama_id,
            "story": fitted,
            "input_type": kind,
            "prompt": prompt[:2000],
            "style": persona_style(persona, style) if persona else style.strip(),
            "length": length or "medium",
            "scene_count": rules.scene_count_for(length, scene_count),
            "language": language or None,
            "title": title.strip(),
            "source_name": source_name,
            "source_chars": len(story),
            "truncated": truncated,
            "ai_provider": ai_provider.strip(),
            "model": model.strip(),
            "budget": budget,
            "persona": persona_brief(persona) if persona else None,
            # In the script's language: the one asked for, else the story's.
            "persona_prompt": persona_prompt(persona, story_language(fitted, language))
            if persona
            else "",
            "seed": seed,
        }
    )
    if providers is not None:
        choice = script_writer.choose(providers, spec.ai_provider, spec.model)
        script_writer.check_estimate(providers, choice, spec.story, spec.scene_count, budget)
    return spec


def estimated_seconds(spec: GenerateScriptInput) -> int:
    return 2 + spec.scene_count // 2 + len(spec.story) // 50_000


def script_id_for(task_id: str) -> str:
    return "script_" + task_id.removeprefix("task_")


class ScriptGenerator:
    """The job handler; holds the repository it stores into."""

    def __init__(self, scripts: ScriptStore, providers: ProviderRegistry) -> None:
        self.scripts = scripts
        self.providers = providers

    async def run(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = GenerateScriptInput.model_validate(job.payload)
        choice = script_writer.choose(self.providers, spec.ai_provider, spec.model)
        await ctx.progress(0, 2, "writing screenplay")
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
        screenplay = written.screenplay
        if not spec.drama_id:
            return {"screenplay": screenplay.model_dump(mode="json"), **written.report()}
        await ctx.progress(1, 2, "saving script")
        metadata: dict[str, Any] = {
            "characters": [c.model_dump(mode="json") for c in screenplay.characters],
            "language": screenplay.language,
            "style": spec.style,
            "length": spec.length,
            "input_type": spec.input_type,
            "source_chars": spec.source_chars,
            "source_truncated": spec.truncated,
            "generator": written.generator,
            "task_id": job.task_id,
        }
        if spec.prompt and spec.input_type != "prompt":
            metadata["prompt"] = spec.prompt
        if spec.persona:
            metadata["persona"] = spec.persona
            metadata["tone"] = spec.persona.get("tone", "")
            metadata["persona_prompt"] = spec.persona_prompt
        if spec.source_name:
            metadata["source_name"] = spec.source_name
        if screenplay.notes:
            metadata["notes"] = list(screenplay.notes)  # e.g. fewer scenes than asked for
        untitled = "未命名剧本" if screenplay.language == "zh" else "Untitled script"
        title = (spec.title or screenplay.title).strip()[: rules.MAX_TITLE] or untitled
        doc = await self.scripts.create(
            job.owner_id,
            spec.drama_id,
            title=title,
            content=render_screenplay(screenplay),
            scenes=[scene.model_dump(mode="json") for scene in screenplay.scenes],
            metadata=metadata,
            status="completed",
            message=f"generated from {spec.input_type}",
            script_id=script_id_for(job.task_id),
        )
        return {**script_view(doc), **written.report()}
