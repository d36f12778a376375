"""The `storyboard_image` job: draw one storyboard's frame again, with a new seed or prompt.

The seed the frame is drawn with (`render_seed`) mixes the asked seed (or, when none is asked,
one drawn from the task id, so every regeneration differs from the last) with the prompt and
the style: a different seed or a different prompt always gives a different picture, the same
three always the same one. The result's `seed` is the seed to send again for this picture
(the asked one, or the one drawn for it), `render_seed` the mixed value the renderer used. The new
frame replaces the old one, whose media objects are deleted once the storyboard points at the
new ones.

`fix_face` is accepted as the seed API has it and recorded; the offline renderer draws
stylised figures whose faces need no fixing, so it changes nothing there.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pydantic import BaseModel, Field

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import Character
from storyreel_core.errors import AppError
from storyreel_storyboard.frames import FrameMaker, shot_of
from storyreel_storyboard.peers import Peers
from storyreel_storyboard.script_screenplay import asset_character, reference_keys
from storyreel_storyboard.storyboard_fields import (
    FRAME_SIZES,
    cast_of,
    referenced_characters,
    storyboard_view,
)
from storyreel_storyboard.storyboard_store import StoryboardStore


class RegenerateInput(BaseModel):
    drama_id: str = Field(min_length=1)
    storyboard_id: str = Field(min_length=1)
    prompt: str = Field(default="", max_length=2000)
    image_style: str = Field(default="", max_length=200)
    fix_face: bool = False
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    image_provider: str = Field(default="", max_length=64)
    image_model: str = Field(default="", max_length=200)
    # The frame's size; 0 = the storyboard's aspect ratio's (FRAME_SIZES). A workflow draws
    # its frames at its video's size (a render's `options.image.resolution`).
    width: int = Field(default=0, ge=0, le=4096)
    height: int = Field(default=0, ge=0, le=4096)
    # An image model's sampling steps and guidance (seed 002's image style); None = its own.
    num_steps: int | None = Field(default=None, ge=1, le=100)
    cfg_scale: float | None = Field(default=None, ge=0, le=30)
    budget: float | None = Field(default=None, ge=0)  # US dollars; None = no limit

    def frame_size(self, aspect_ratio: str) -> tuple[int, int]:
        """(width, height) in pixels: the asked size, else the aspect ratio's."""
        if self.width and self.height:
            return self.width, self.height
        return FRAME_SIZES.get(aspect_ratio, FRAME_SIZES["9:16"])


def _seed_of(text: str) -> int:
    """31 bits of the SHA-256 of `text`, never 0 (0 means "none asked")."""
    return (int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") & 0x7FFFFFFF) or 1


def asked_seed(seed: int, task_id: str) -> int:
    """The request's seed, else one drawn from the task id (a new picture each time, which the
    result reports so that sending it again redraws this picture)."""
    return seed or _seed_of(task_id)


def render_seed(seed: int, prompt: str, style: str) -> int:
    """The seed the frame is drawn with: the asked seed (`asked_seed`) mixed with the prompt
    and style, so a new prompt with the same seed still gives a new picture."""
    return _seed_of(f"{seed}\n{prompt}\n{style}")


async def drama_cast(
    peers: Peers, owner_id: str, drama_id: str, doc: dict[str, Any]
) -> tuple[list[Character], dict[str, str]]:
    """The people of a storyboard: as designed in the asset service where they are (so a
    renamed character is drawn as its sheet shows it now), else as the storyboard remembers;
    and the keys of their default images (for providers that draw from a reference)."""
    ids = referenced_characters(doc)
    if not ids:
        return [], {}
    msgs = await peers.characters(owner_id, drama_id, ids)
    designed = {c.id: asset_character(c) for c in msgs}
    remembered = {c.id: c for c in cast_of(doc)}
    cast = [designed.get(i) or remembered.get(i) or Character(id=i, name=i) for i in ids]
    return cast, reference_keys(msgs)


class RegenerateImageJob:
    def __init__(self, store: StoryboardStore, peers: Peers, frames: FrameMaker) -> None:
        self.store = store
        self.peers = peers
        self.frames = frames

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = RegenerateInput.model_validate(job.payload)
        owner, drama = job.owner_id, spec.drama_id
        doc = await self.store.get(owner, drama, spec.storyboard_id)
        prompt = spec.prompt or doc.get("prompt", "")
        style = spec.image_style or doc.get("image_style", "")
        asked = asked_seed(spec.seed, job.task_id)
        seed = render_seed(asked, prompt, style)
        characters, references = await drama_cast(self.peers, owner, drama, doc)

        async def drawn(done: int, of: int) -> None:
            await ctx.progress(done, of + 1, "drawing frame")

        frames = await self.frames.draw(
            owner_id=owner,
            drama_id=drama,
            task_id=job.task_id,
            shots=[shot_of(doc, prompt=prompt)],
            characters=characters,
            language=doc.get("language") or "zh",
            style=style,
            size=spec.frame_size(doc.get("aspect_ratio", "")),
            seed=seed,
            on_drawn=drawn,
            references=references,
            image_provider=spec.image_provider,
            image_model=spec.image_model,
            num_steps=spec.num_steps,
            cfg_scale=spec.cfg_scale,
            budget=spec.budget,
        )
        frame = frames.frames.get(spec.storyboard_id)
        if frame is None:
            # The render stage already retried; running it again would fail the same way.
            raise AppError("the frame could not be drawn; try again later", permanent=True)

        def keep(current: dict[str, Any]) -> dict[str, Any]:
            return {
                **current,
                "prompt": prompt,
                "image_style": style,
                "image_seed": asked,
                "fix_face": spec.fix_face,
                "image_key": frame.image_key,
                "thumbnail_key": frame.thumbnail_key,
                "image_status": "completed",
                "image_width": frame.width,
                "image_height": frame.height,
                "figures": frame.figures,
            }

        before, after = await self.store.mutate(owner, drama, spec.storyboard_id, keep)
        for key in (before.get("image_key"), before.get("thumbnail_key")):
            if key and key not in (frame.image_key, frame.thumbnail_key):
                await self.store.objects.delete(key)
        await ctx.progress(1, 1, "done")
        return {
            "storyboard": storyboard_view(after),
            "seed": asked,
            "render_seed": seed,
            "fix_face": spec.fix_face,
            **frames.spent,  # the image calls' usage, cost and provider_calls
        }
