"""The `character_images` job: character sheets of a stored character (front, side and back
views of them in one image), with thumbnails.

With `image_provider` set the sheets come from that image model (through the call layer:
limits, retries, cache, usage and cost in the task result), drawn with the character's own
seed (`character_seed`, the one every storyboard shot of the character uses); else from the
procedural renderer.

Keys and image ids derive from the task and the item, so a redelivered job overwrites its own
images and re-adds them under the same ids instead of duplicating them. The first image becomes
the character's default when it has none.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field

from storyreel_asset.character_store import CharacterStore, media_prefix
from storyreel_asset.model_frames import ModelFrames, fit, model_drawer
from storyreel_asset.procedural_renderer import CHARACTER_SHEET_SIZE, render_character_sheet
from storyreel_asset.staged_upload import jpeg_thumbnail, png_bytes
from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.clock import utc_now
from storyreel_core.drama_models import Character, Gender
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.providers.usage import UsageLedger

SHEET_WIDTH, SHEET_HEIGHT = CHARACTER_SHEET_SIZE  # a turnaround: front, side and back


class CharacterImagesInput(BaseModel):
    drama_id: str = Field(min_length=1)
    character_id: str = Field(min_length=1)
    prompt: str = Field(default="", max_length=2000)
    style: str = Field(default="", max_length=200)
    count: int = Field(default=1, ge=1, le=4)
    seed: int = 0
    image_provider: str = Field(default="", max_length=64)
    image_model: str = Field(default="", max_length=200)


def image_id(task_id: str, index: int) -> str:
    return f"img_{task_id.removeprefix('task_')}_{index}"


def _draw(character: Character, style: str, seed: int) -> tuple[bytes, bytes]:
    image = render_character_sheet(
        character, style=style, width=SHEET_WIDTH, height=SHEET_HEIGHT, seed=seed
    )
    return png_bytes(image), jpeg_thumbnail(image)


def _model_draw(data: bytes) -> tuple[bytes, bytes]:
    """The model's sheet fitted to the sheet size, as PNG, and its thumbnail."""
    image = fit(data, SHEET_WIDTH, SHEET_HEIGHT)
    return png_bytes(image), jpeg_thumbnail(image)


class CharacterImagesJob:
    def __init__(
        self, characters: CharacterStore, providers: ProviderRegistry | None = None
    ) -> None:
        self.characters = characters
        self.providers = providers

    def _drawer(self, spec: CharacterImagesInput, ledger: UsageLedger) -> ModelFrames | None:
        return model_drawer(self.providers, spec.image_provider, spec.image_model, ledger)

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = CharacterImagesInput.model_validate(job.payload)
        stored = await self.characters.get(job.owner_id, spec.drama_id, spec.character_id)
        gender: Gender = "unknown"
        if stored.get("gender") == "male":
            gender = "male"
        elif stored.get("gender") == "female":
            gender = "female"
        character = Character(
            id=stored["_id"],
            name=stored["name"],
            gender=gender,
            description=spec.prompt or stored.get("image_prompt") or stored.get("description", ""),
        )
        prefix = media_prefix(spec.drama_id, spec.character_id)
        images: list[dict[str, Any]] = []
        ledger = UsageLedger()
        drawer = self._drawer(spec, ledger)
        for i in range(spec.count):
            await ctx.progress(i, spec.count, "drawing character images")
            if drawer is not None:
                sheet = await drawer.character_sheet(
                    character,
                    style=spec.style,
                    width=SHEET_WIDTH,
                    height=SHEET_HEIGHT,
                    seed=spec.seed + i,
                )
                png, thumb = await asyncio.to_thread(_model_draw, sheet)
            else:
                png, thumb = await asyncio.to_thread(_draw, character, spec.style, spec.seed + i)
            img_id = image_id(job.task_id, i)
            key = f"{prefix}{img_id}.png"
            thumb_key = f"{prefix}{img_id}_thumb.jpg"
            await self.characters.objects.put_bytes(key, png, "image/png")
            await self.characters.objects.put_bytes(thumb_key, thumb, "image/jpeg")
            image = {
                "id": img_id,
                "key": key,
                "thumbnail_key": thumb_key,
                "source": "generated",
                "content_type": "image/png",
                "width": SHEET_WIDTH,
                "height": SHEET_HEIGHT,
                "created_at": utc_now(),
            }
            await self.characters.add_image(
                job.owner_id, spec.drama_id, spec.character_id, image, make_default=False
            )
            images.append({"id": img_id, "key": key, "thumbnail_key": thumb_key})
        await ctx.progress(spec.count, spec.count, "done")
        result: dict[str, Any] = {"character_id": spec.character_id, "images": images}
        if drawer is not None:
            model = drawer.model
            result |= {"generator": {"provider": model.provider, "model": model.model}}
            result |= ledger.summary()
        return result
