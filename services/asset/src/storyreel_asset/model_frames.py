"""Frames and reference sheets drawn by an image model (the `image_provider` of a request).

Consistency, in the order the frames job calls it:

1. Reference sheets first: each character without a stored default image gets a character
   sheet from the model (a turnaround: front, side and back views; its description, its own
   seed), and each location of the board an empty
   establishing view. A stored default image (an upload, an earlier sheet) is used as is.
2. Every shot's request carries, as `references`, the sheets of the characters in the shot
   (with each character's seed) and of the shot's location, and the seed of its first
   character, so a character keeps its face and the model its randomness across shots.

Seeds: a character's sheet and its reference always use `character_seed(id)`, a location's
`location_seed(name)`, whatever the request's seed, so regenerating one shot with a new seed
redraws that shot only; the shot itself uses its first character's seed offset by the
request's seed. Rendering the same board again asks the model exactly the same questions: an
untouched shot is answered by the call layer's content-addressed cache (its key hashes the
references' bytes), and a shot whose characters changed misses it and is drawn again.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from PIL import Image, ImageOps

from storyreel_asset.frame_provider import DrawnFrame, FrameRequest
from storyreel_asset.stable_hash import stable_seed
from storyreel_core.drama_models import Character, Shot
from storyreel_core.providers.ports import ImageModel, ImageRequest, ReferenceImage
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.providers.usage import UsageLedger

SEED_RANGE = 2**31  # every image API takes a non-negative 32-bit seed
DEFAULT_NEGATIVE = "blurry, deformed, extra limbs, text, watermark"
ShotProgress = Callable[[str, float], Awaitable[None]]


def character_seed(character_id: str) -> int:
    """The seed a character is always drawn with: stable per id, in every shot and run."""
    return stable_seed("character", character_id) % SEED_RANGE


def location_seed(location: str) -> int:
    return stable_seed("location", location.strip().lower()) % SEED_RANGE


def fit(data: bytes, width: int, height: int) -> Image.Image:
    """The model's picture as RGB, scaled and centre-cropped to cover `width`×`height`
    (a picture already that size is returned pixel for pixel)."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if image.size == (width, height):
        return image
    return ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)


def _joined(*parts: str) -> str:
    return ". ".join(p.strip().rstrip(".") for p in parts if p and p.strip())


# What a character sheet shows, in the words image models are trained on ("character
# turnaround", "model sheet"): the same figure three times, so the sheet is a reference for
# every angle a shot may need.
SHEET_VIEWS = (
    "character turnaround sheet, front view, side view and back view of the same character "
    "side by side, full body, neutral standing pose, same outfit and proportions in every "
    "view, plain light background, consistent design"
)


def sheet_prompt(character: Character, style: str) -> str:
    """The prompt of `character`'s sheet: the style, who they are, then `SHEET_VIEWS`."""
    return _joined(
        style,
        f"Character sheet of {character.name}",
        character.description,
        SHEET_VIEWS,
    )


@dataclass
class ModelFrames:
    """A `FrameProvider` (and sheet maker) over an `ImageModel` (managed by the call layer)."""

    model: ImageModel
    steps: int | None = None
    cfg_scale: float | None = None
    negative_prompt: str = DEFAULT_NEGATIVE
    on_progress: ShotProgress | None = None

    async def character_sheet(
        self, character: Character, *, style: str, width: int, height: int, seed: int = 0
    ) -> bytes:
        """The character sheet of `character`: a turnaround, its front, side and back views
        side by side, full body, plain background (PNG/JPEG bytes; see `sheet_prompt`).

        `seed` offsets the character's own seed (another take); 0 = the character's sheet."""
        prompt = sheet_prompt(character, style)
        result = await self.model.generate(
            ImageRequest(
                prompt=prompt,
                width=width,
                height=height,
                negative_prompt=self.negative_prompt,
                seed=(character_seed(character.id) + seed) % SEED_RANGE,
                steps=self.steps,
                cfg_scale=self.cfg_scale,
            )
        )
        return result.images[0]

    async def location_sheet(
        self, location: str, *, style: str, width: int, height: int, seed: int = 0
    ) -> bytes:
        prompt = _joined(style, f"Establishing view of {location}", "no people, wide shot")
        result = await self.model.generate(
            ImageRequest(
                prompt=prompt,
                width=width,
                height=height,
                negative_prompt=self.negative_prompt + ", people",
                seed=(location_seed(location) + seed) % SEED_RANGE,
                steps=self.steps,
                cfg_scale=self.cfg_scale,
            )
        )
        return result.images[0]

    def shot_request(self, request: FrameRequest) -> ImageRequest:
        """The image request of one shot: its prompt, its references, its seed."""
        shot: Shot = request.shot
        cast = {c.id: c for c in request.cast}
        present = [cast[cid] for cid in shot.character_ids if cid in cast]
        people = "; ".join(
            f"{c.name}: {c.description}" if c.description else c.name for c in present
        )
        prompt = _joined(
            request.style,
            f"{shot.shot_type} shot",
            shot.prompt or shot.description,
            f"Location: {shot.location}, {shot.time}" if shot.location else "",
            f"Characters: {people}" if people else "",
        )
        references = [
            ReferenceImage(
                role="character",
                name=c.name,
                data=request.references[c.id],
                seed=character_seed(c.id),
            )
            for c in present
            if c.id in request.references
        ]
        if request.location_reference is not None:
            references.append(
                ReferenceImage(role="location", name=shot.location, data=request.location_reference)
            )
        seed = (
            (character_seed(present[0].id) + request.seed) % SEED_RANGE
            if present
            else stable_seed("shot", shot.id, request.seed) % SEED_RANGE
        )
        return ImageRequest(
            prompt=prompt,
            width=request.width,
            height=request.height,
            negative_prompt=self.negative_prompt,
            seed=seed,
            steps=self.steps,
            cfg_scale=self.cfg_scale,
            references=tuple(references),
        )

    async def draw(self, request: FrameRequest) -> DrawnFrame:
        """The model's picture fitted to the frame; a model does not say where it drew the
        characters, so the frame carries no figure boxes (subtitles take the default place)."""
        shot_id = request.shot.id

        async def progress(fraction: float) -> None:
            if self.on_progress is not None:
                await self.on_progress(shot_id, fraction)

        result = await self.model.generate(self.shot_request(request), progress)
        image = await asyncio.to_thread(fit, result.images[0], request.width, request.height)
        return DrawnFrame(image)


def model_drawer(
    providers: ProviderRegistry | None, provider: str, model: str, ledger: UsageLedger
) -> ModelFrames | None:
    """The drawer for a request's `image_provider`/`image_model` through the call layer, or
    None for the procedural renderer (no registry, or the offline provider). Raises
    `ValidationFailed` naming the configured ones for an unknown provider or model."""
    if providers is None:
        return None
    choice = providers.resolve(
        "image", provider, model, field="image_provider", model_field="image_model"
    )
    if choice.offline:
        return None
    return ModelFrames(providers.image_model(choice, ledger))
