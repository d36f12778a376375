"""Who draws a storyboard frame: the port the frames job talks to, and the offline adapter.

A model-backed provider (a diffusion model on a GPU node, a hosted image API) keeps a character
looking the same by conditioning on that character's designed image, so every request carries
the default image of each character in the shot (`references`, by character id). The offline
procedural renderer needs no picture: it draws a character from its design (a pure function of
id, name and gender), which is already the same in every shot, and leaves the references aside.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from PIL import Image

from storyreel_asset.procedural_renderer import render_frame_with_mask
from storyreel_core.drama_models import Character, FigureBox, Shot


@dataclass(frozen=True)
class FrameRequest:
    shot: Shot
    cast: Sequence[Character]
    style: str
    width: int
    height: int
    seed: int
    # Character id → the bytes of its default image, for the characters in this shot only.
    references: Mapping[str, bytes] = field(default_factory=dict)
    # The sheet of the shot's location, when the job drew one (model-backed providers only).
    location_reference: bytes | None = None


@dataclass(frozen=True)
class DrawnFrame:
    """A drawn frame and, when the provider knows them, where it put each character
    (face and body boxes in frame fractions); a provider that cannot tell leaves it empty."""

    image: Image.Image
    figures: tuple[FigureBox, ...] = ()


class FrameProvider(Protocol):
    async def draw(self, request: FrameRequest) -> DrawnFrame: ...


class ProceduralFrames:
    """The offline provider: the procedural renderer, in a thread (it is CPU work)."""

    async def draw(self, request: FrameRequest) -> DrawnFrame:
        render = await asyncio.to_thread(
            render_frame_with_mask,
            request.shot,
            request.cast,
            style=request.style,
            width=request.width,
            height=request.height,
            seed=request.seed,
        )
        return DrawnFrame(render.image, render.figures)
