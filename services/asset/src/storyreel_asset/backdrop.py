"""Backdrop: sky, ground and scenery for one frame, before any people are drawn.

The gradients and atmosphere are numpy maths over whole rows and arrays; the scenery shapes
are PIL drawing. Scene-level randomness (cloud shapes, sun position, skyline) comes from the
scene seed, so all shots of a scene share them; only the framing (`Layout`) differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from storyreel_asset.composition import Layout
from storyreel_asset.palette import RGB, Palette, mix, scale
from storyreel_asset.scenery import LocationKind, SceneCanvas, View, draw_scenery
from storyreel_asset.stable_hash import stable_rng
from storyreel_asset.texture import (
    FloatImage,
    blur,
    colour_vector,
    radial_glow,
    soft_noise,
    to_float,
    to_image,
)

_WOOD: RGB = (150, 106, 72)


@dataclass(frozen=True)
class Backdrop:
    """The painted background, its unblurred light-source layer and where the key light is."""

    pixels: FloatImage
    glow: Image.Image
    light_source: tuple[float, float]
    horizon: float


def scenery_unit(width: int, height: int, zoom: float) -> float:
    """Pixels per world unit: the shorter side, but never so small that a very wide frame runs
    past the generated world (4 units either side)."""
    return max(min(width, height), width / 4.0) * zoom


def _column(top: RGB, bottom: RGB, rows: int, gamma: float = 1.0) -> FloatImage:
    """A vertical gradient, (3, rows, 1), ready to broadcast across the width."""
    t = np.linspace(0.0, 1.0, max(rows, 1), dtype=np.float32) ** np.float32(gamma)
    start = colour_vector(top)
    result: FloatImage = start + (colour_vector(bottom) - start) * t[None, :, None]
    return result


def _surfaces(kind: LocationKind, p: Palette) -> tuple[RGB, RGB, RGB, RGB]:
    """(upper top, upper bottom, lower top, lower bottom): sky and ground, or wall and floor,
    or sky and water."""
    if kind == "room":
        floor = mix(p.ground_far, scale(_WOOD, 0.45 if p.lights_on else 1.0), 0.5)
        return (scale(p.wall, 0.78), p.wall, floor, scale(floor, 0.7))
    if kind == "water":
        return (
            p.sky_top,
            p.sky_horizon,
            mix(p.sky_horizon, p.far, 0.35),
            mix(p.sky_top, p.near, 0.5),
        )
    return (p.sky_top, p.sky_horizon, p.ground_far, p.ground_near)


def paint_backdrop(
    kind: LocationKind,
    palette: Palette,
    layout: Layout,
    width: int,
    height: int,
    scene_key: tuple[object, ...],
) -> Backdrop:
    """Paint sky/ground gradients, clouds, sun or moon, scenery and horizon haze.

    `scene_key` seeds everything, so the same key gives the same place in every shot.
    """
    horizon = layout.horizon * height
    upper_rows = int(np.clip(round(horizon), 0, height))
    upper_top, upper_bottom, lower_top, lower_bottom = _surfaces(kind, palette)
    column = np.concatenate(
        [
            _column(upper_top, upper_bottom, upper_rows, 0.8)[:, :upper_rows],
            _column(lower_top, lower_bottom, height - upper_rows, 0.9)[:, : height - upper_rows],
        ],
        axis=1,
    )
    pixels: FloatImage = np.repeat(column, width, axis=2)

    sky_rng = stable_rng(*scene_key, "sky")
    clouds = soft_noise(sky_rng, width, height, 5) * np.float32(0.6)
    clouds += soft_noise(sky_rng, width, height, 13) * np.float32(0.4)
    sun_x = float(sky_rng.uniform(0.15, 0.85))
    sun_height = {"day": 0.62, "dawn": 0.22, "dusk": 0.18, "night": 0.7}[palette.time]
    light_source = (width * sun_x, horizon * (1.0 - sun_height))
    outdoor = kind != "room"
    if outdoor and upper_rows > 0:
        sky = pixels[:, :upper_rows]
        cover = np.clip(clouds[:upper_rows], 0.0, 1.0) * np.float32(0.45)
        sky += (colour_vector(mix(palette.sky_horizon, palette.light, 0.5)) - sky) * cover
        radius = max(4.0, 0.05 * min(width, height) * layout.scenery_zoom)
        light = colour_vector(palette.light)
        sky += radial_glow(width, upper_rows, light_source, radius * 5) * np.float32(0.35) * light
        disc = np.clip(radial_glow(width, upper_rows, light_source, radius) * 3.0, 0.0, 1.0)
        sky += (light - sky) * disc
        if palette.time == "night":
            stars = stable_rng(*scene_key, "stars").random((160, 3))
            sy = (stars[:, 1] * upper_rows * 0.85).astype(np.intp)
            sx = (stars[:, 0] * width).astype(np.intp).clip(0, width - 1)
            brightness = (150.0 + 100.0 * stars[:, 2]).astype(np.float32)
            for channel in range(3):
                sky[channel, sy, sx] = brightness
    elif not outdoor:
        # Plaster texture: a gentle uneven wash over the wall.
        pixels *= np.float32(1.0) + clouds * np.float32(0.06)

    canvas = SceneCanvas(image=to_image(pixels), glow=Image.new("RGB", (width, height)))
    view = View(
        width=width,
        height=height,
        horizon=horizon,
        unit=scenery_unit(width, height, layout.scenery_zoom),
        stretch=layout.scenery_stretch,
    )
    draw_scenery(canvas, kind, palette, view, stable_rng(*scene_key, "scenery", kind))
    if layout.ground_lines:
        _ground_lines(canvas, palette, view)
    if layout.background_blur > 0:
        radius = layout.background_blur * max(width, height)
        canvas.image = blur(canvas.image, radius)
    pixels = to_float(canvas.image)

    if outdoor:
        # Aerial perspective: a band of haze where land meets sky.
        rows = np.arange(height, dtype=np.float32)
        mist = palette.effect == "mist"
        spread = np.float32(0.06 * height * (2.0 if mist else 1.0))
        band = np.exp(-(((rows - np.float32(horizon)) / spread) ** 2))
        amount = band * np.float32(0.4 if mist else 0.25)
        pixels += (colour_vector(palette.sky_horizon) - pixels) * amount[None, :, None]
    return Backdrop(pixels=pixels, glow=canvas.glow, light_source=light_source, horizon=horizon)


def _ground_lines(canvas: SceneCanvas, palette: Palette, view: View) -> None:
    """Paving seen from above: lines converging on a point far above the frame, plus cross
    joints, so a high-angle shot reads as looking down onto the ground plane."""
    colour = tuple(round(c) for c in scale(palette.ground_far, 0.78))
    fill = (colour[0], colour[1], colour[2])
    vp_x = view.width / 2
    for i in range(-10, 11):
        x_bottom = vp_x + i * view.unit * 0.35
        canvas.draw.line(
            [(vp_x + (x_bottom - vp_x) * 0.35, view.horizon), (x_bottom, view.height)], fill=fill
        )
    depth = view.height - view.horizon
    for j in range(1, 12):
        y = view.horizon + depth * (j / 11.0) ** 1.3
        canvas.draw.line([(0, y), (view.width, y)], fill=fill)
