"""The `frames` job: one still per storyboard shot plus a character sheet per character (its
front, side and back views in one image: the reference a model provider conditions on when
the character has no stored default image).

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

from storyreel_asset.bounded import map_bounded
from storyreel_asset.frame_provider import FrameProvider, FrameRequest, ProceduralFrames
from storyreel_asset.model_frames import ModelFrames
from storyreel_asset.procedural_renderer import render_character_sheet
from storyreel_asset.staged_upload import jpeg_thumbnail
from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.bus.serial_progress import SerialProgress
from storyreel_core.cores import usable_cores
from storyreel_core.drama_models import Character, Shot, Storyboard
from storyreel_core.errors import NotFound
from storyreel_core.providers.costs import check_budget, estimate_images
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.providers.usage import UsageLedger
from storyreel_core.stores.object_store import ObjectStore

# Shots in flight for a model: the provider's limiter bounds the calls themselves (its
# max_concurrency and requests_per_minute), so many may wait on it; decoding is cheap.
MODEL_PARALLEL = 64


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
    # A configured image provider (GET /providers) and model; empty = the procedural renderer.
    image_provider: str = Field(default="", max_length=64)
    image_model: str = Field(default="", max_length=200)
    num_steps: int | None = Field(default=None, ge=1, le=100)
    cfg_scale: float | None = Field(default=None, ge=0, le=30)
    budget: float | None = Field(default=None, ge=0)


def sheet_size(width: int, height: int) -> tuple[int, int]:
    """A character sheet's size for frames of `width`x`height`: half the frame's shorter side
    (at least 256) times 4/3 tall, and 3:2 wide for its three views (front, side, back)."""
    tall = max(256, min(width, height) // 2) * 4 // 3
    return tall * 3 // 2, tall


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
        providers: ProviderRegistry | None = None,
    ) -> None:
        self.objects = objects
        self.provider: FrameProvider = provider or ProceduralFrames()
        self.parallel = parallel or usable_cores()
        self.providers = providers

    async def _references(self, keys: dict[str, str]) -> dict[str, bytes]:
        """Each reference image once per job (a character appears in many shots)."""
        found: dict[str, bytes] = {}
        for character_id, key in keys.items():
            with contextlib.suppress(NotFound):  # deleted since: drawn without a reference
                found[character_id] = await self.objects.get_bytes(key)
        return found

    async def _frame(
        self,
        task_id: str,
        spec: FramesInput,
        shot: Shot,
        references: dict[str, bytes],
        provider: FrameProvider | None = None,
        locations: dict[str, bytes] | None = None,
    ) -> dict[str, Any]:
        """Draw one shot and store it (and its thumbnail when asked)."""
        drawn = await (provider or self.provider).draw(
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
                location_reference=(locations or {}).get(shot.location),
            )
        )
        image = drawn.image
        key = f"renders/{task_id}/frames/{shot.id}.png"
        stored = await self.objects.put_bytes(
            key, await asyncio.to_thread(png_bytes, image), "image/png"
        )
        frame: dict[str, Any] = {
            "shot_id": shot.id,
            "key": key,
            # What was stored: the PNG's bytes and sides (a provider may answer another size
            # than asked; the frame is what callers show and measure).
            "size": stored.size,
            "width": image.width,
            "height": image.height,
            "figures": [figure.model_dump() for figure in drawn.figures],
        }
        if spec.thumbnail_width:
            thumb = await asyncio.to_thread(jpeg_thumbnail, image, spec.thumbnail_width)
            frame["thumbnail_key"] = f"renders/{task_id}/frames/{shot.id}_thumb.jpg"
            await self.objects.put_bytes(frame["thumbnail_key"], thumb, "image/jpeg")
        return frame

    async def _sheet(self, task_id: str, spec: FramesInput, character: Character) -> dict[str, Any]:
        """A character's sheet (front, side and back views), sized by `sheet_size`."""
        width, height = sheet_size(spec.width, spec.height)
        image = await asyncio.to_thread(
            render_character_sheet,
            character,
            style=spec.style or spec.storyboard.style,
            width=width,
            height=height,
            seed=spec.seed,
        )
        key = f"renders/{task_id}/characters/{character.id}.png"
        await self.objects.put_bytes(key, await asyncio.to_thread(png_bytes, image), "image/png")
        return {"character_id": character.id, "name": character.name, "key": key}

    def _model_frames(
        self,
        spec: FramesInput,
        ledger: UsageLedger,
        report: SerialProgress,
        done: list[int],
        total: int,
    ) -> ModelFrames | None:
        """The model-backed drawer of `spec.image_provider`, or None for the offline path."""
        if self.providers is None:
            return None
        choice = self.providers.resolve(
            "image",
            spec.image_provider,
            spec.image_model,
            field="image_provider",
            model_field="image_model",
        )
        if choice.offline:
            return None
        # Refused before the first paid call: at most a sheet per character without a
        # stored image, one per location and one per shot, at the provider's price.
        board = spec.storyboard
        images = (
            sum(1 for c in board.characters if c.id not in spec.references)
            + len({s.location for s in board.shots if s.location.strip()})
            + len(board.shots)
        )
        prices = self.providers.prices(choice.provider)
        check_budget(spec.budget, estimate_images(prices, images))

        async def progress(shot_id: str, fraction: float) -> None:
            await report(
                done[0],
                total,
                "drawing frames",
                current_item={"shot_id": shot_id, "status": "processing", "progress": fraction},
                optional=True,
            )

        return ModelFrames(
            self.providers.image_model(choice, ledger),
            steps=spec.num_steps,
            cfg_scale=spec.cfg_scale,
            on_progress=progress,
        )

    async def _model_sheets(
        self,
        task_id: str,
        spec: FramesInput,
        drawer: ModelFrames,
        references: dict[str, bytes],
        report: SerialProgress,
        done: list[int],
        total: int,
    ) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
        """Reference sheets first: characters without a stored default image, then each
        location. Fills `references`; returns the stored sheets and the location sheets."""
        board = spec.storyboard
        style = spec.style or board.style
        sheet_w, sheet_h = sheet_size(spec.width, spec.height)
        sheets: list[dict[str, Any]] = []

        async def character(_: int, c: Character) -> None:
            await report(done[0], total, "drawing characters")
            data = references.get(c.id)
            if data is None:
                # The character's own seed, not the request's: a sheet stays the same when
                # one shot is regenerated with a new seed.
                data = await drawer.character_sheet(c, style=style, width=sheet_w, height=sheet_h)
                references[c.id] = data
            key = f"renders/{task_id}/characters/{c.id}.png"
            await self.objects.put_bytes(key, data, "image/png")
            sheets.append({"character_id": c.id, "name": c.name, "key": key})
            done[0] += 1

        places = sorted({s.location for s in board.shots if s.location.strip()})
        locations: dict[str, bytes] = {}

        async def location(_: int, place: str) -> None:
            locations[place] = await drawer.location_sheet(
                place, style=style, width=spec.width, height=spec.height
            )

        await map_bounded(board.characters, character, MODEL_PARALLEL)
        await map_bounded(places, location, MODEL_PARALLEL)
        order = {c.id: i for i, c in enumerate(board.characters)}
        sheets.sort(key=lambda s: order[s["character_id"]])
        return sheets, locations

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = FramesInput.model_validate(job.payload)
        board = spec.storyboard
        sheet_cast = board.characters if spec.character_sheets else []
        total = len(board.shots) + len(sheet_cast)
        references = await self._references(spec.references)
        ledger = UsageLedger(budget=spec.budget)
        counter = [0]
        report = SerialProgress(ctx)
        drawer = self._model_frames(
            spec, ledger, report, counter, len(board.shots) + len(board.characters)
        )
        if drawer is not None:
            total = len(board.shots) + len(board.characters)
            sheets, locations = await self._model_sheets(
                job.task_id, spec, drawer, references, report, counter, total
            )

            async def model_frame(_: int, shot: Shot) -> dict[str, Any]:
                await report(
                    counter[0],
                    total,
                    "drawing frames",
                    current_item={"shot_id": shot.id, "status": "processing"},
                )
                result = await self._frame(job.task_id, spec, shot, references, drawer, locations)
                counter[0] += 1
                return result

            frames = await map_bounded(board.shots, model_frame, MODEL_PARALLEL)
            return {
                "frames": frames,
                "characters": sheets if spec.character_sheets else [],
                "generator": {"provider": drawer.model.provider, "model": drawer.model.model},
                **ledger.summary(),
            }
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
