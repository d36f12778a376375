"""The `designs` job: design images for a drama's characters, props and scenes (seed 001 §4).

Each item becomes an asset of the drama's library (type image, kind character|prop|scene) with
a PNG and a JPEG thumbnail. Asset ids and keys derive from the task and the item's index, so a
redelivered job rewrites the same assets instead of adding new ones; with `asset_id` the one item
redraws that asset in place (same id and keys).

With `image_provider` set the designs come from that image model (through the call layer, as
the character sheets: limits, retries, usage and cost in the task result): a character as its
character sheet (front, side and back views), a prop or a scene from its name and
description; else the procedural renderer.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any, Literal

from pydantic import BaseModel, Field

from storyreel_asset.asset_store import AssetStore, media_prefix
from storyreel_asset.model_frames import ModelFrames, fit, model_drawer
from storyreel_asset.procedural_renderer import (
    CHARACTER_SHEET_SIZE,
    render_character_sheet,
    render_design,
)
from storyreel_asset.staged_upload import jpeg_thumbnail, png_bytes
from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import Character
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.providers.usage import UsageLedger

DesignKind = Literal["character", "prop", "scene"]
SIZES: dict[str, tuple[int, int]] = {
    "character": CHARACTER_SHEET_SIZE,  # the character sheet: front, side and back views
    "prop": (512, 512),
    "scene": (768, 512),
}


class DesignItem(BaseModel):
    kind: DesignKind
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)


class DesignInput(BaseModel):
    drama_id: str = Field(min_length=1)
    items: list[DesignItem] = Field(min_length=1, max_length=20)
    style: str = Field(default="", max_length=200)
    seed: int = 0
    tags: list[str] = Field(default_factory=list, max_length=20)
    image_provider: str = Field(default="", max_length=64)
    image_model: str = Field(default="", max_length=200)
    asset_id: str = Field(default="", max_length=100)


def asset_id(task_id: str, index: int) -> str:
    return f"asset_{task_id.removeprefix('task_')}_{index}"


def draw_design(item: DesignItem, style: str, seed: int) -> tuple[bytes, bytes, int, int]:
    width, height = SIZES[item.kind]
    if item.kind == "character":
        digest = hashlib.sha256(item.name.encode()).hexdigest()[:12]
        character = Character(id=f"design_{digest}", name=item.name, description=item.description)
        image = render_character_sheet(
            character, style=style, width=width, height=height, seed=seed
        )
    else:
        image = render_design(
            item.kind,
            item.name,
            item.description,
            style=style,
            width=width,
            height=height,
            seed=seed,
        )
    return png_bytes(image), jpeg_thumbnail(image), width, height


def _design_character(item: DesignItem) -> Character:
    digest = hashlib.sha256(item.name.encode()).hexdigest()[:12]
    return Character(id=f"design_{digest}", name=item.name, description=item.description)


async def model_design(
    drawer: ModelFrames, item: DesignItem, style: str, seed: int
) -> tuple[bytes, bytes, int, int]:
    """The item drawn by the image model, fitted to its kind's size: (PNG, JPEG thumbnail,
    width, height)."""
    width, height = SIZES[item.kind]
    if item.kind == "character":
        data = await drawer.character_sheet(
            _design_character(item), style=style, width=width, height=height, seed=seed
        )
    else:
        subject = f"{item.name}, {item.description}".strip(", ")
        if item.kind == "prop":
            subject = f"prop design of {subject}, isolated object"
        data = await drawer.location_sheet(
            subject, style=style, width=width, height=height, seed=seed
        )

    def encode() -> tuple[bytes, bytes]:
        image = fit(data, width, height)
        return png_bytes(image), jpeg_thumbnail(image)

    png, thumb = await asyncio.to_thread(encode)
    return png, thumb, width, height


class DesignJob:
    def __init__(self, assets: AssetStore, providers: ProviderRegistry | None = None) -> None:
        self.assets = assets
        self.providers = providers

    def _drawer(self, spec: DesignInput, ledger: UsageLedger) -> ModelFrames | None:
        return model_drawer(self.providers, spec.image_provider, spec.image_model, ledger)

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = DesignInput.model_validate(job.payload)
        total = len(spec.items)
        out: list[dict[str, Any]] = []
        ledger = UsageLedger()
        drawer = self._drawer(spec, ledger)
        for i, item in enumerate(spec.items):
            await ctx.progress(
                i, total, "drawing designs", current_item={"name": item.name, "kind": item.kind}
            )
            if drawer is not None:
                png, thumb, width, height = await model_design(drawer, item, spec.style, spec.seed)
            else:
                png, thumb, width, height = await asyncio.to_thread(
                    draw_design, item, spec.style, spec.seed
                )
            aid = spec.asset_id or asset_id(job.task_id, i)
            prefix = media_prefix(spec.drama_id, aid)
            key, thumb_key = f"{prefix}design.png", f"{prefix}thumb.jpg"
            await self.assets.objects.put_bytes(key, png, "image/png")
            await self.assets.objects.put_bytes(thumb_key, thumb, "image/jpeg")
            await self.assets.put(
                job.owner_id,
                spec.drama_id,
                {
                    "_id": aid,
                    "media_type": "image",
                    "kind": item.kind,
                    "name": item.name,
                    "description": item.description,
                    "prompt": f"{item.name} {item.description}".strip(),
                    "tags": spec.tags,
                    "key": key,
                    "thumbnail_key": thumb_key,
                    "content_type": "image/png",
                    "size": len(png),
                    "width": width,
                    "height": height,
                    "source": "generated",
                    "task_id": job.task_id,
                },
            )
            out.append(
                {
                    "id": aid,
                    "kind": item.kind,
                    "name": item.name,
                    "description": item.description,
                    "key": key,
                    "thumbnail_key": thumb_key,
                }
            )
        await ctx.progress(total, total, "done")
        result: dict[str, Any] = {"assets": out}
        if drawer is not None:
            model = drawer.model
            result |= {"generator": {"provider": model.provider, "model": model.model}}
            result |= ledger.summary()
        return result
