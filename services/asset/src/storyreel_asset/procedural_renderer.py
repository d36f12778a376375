"""The offline image provider: storyboard shots rendered procedurally, without any model.

This is what StoryReel uses when no image model is configured (and in tests): every frame is a
pure function of the shot, the cast, the style string and the seed, so a re-run reproduces the
same video byte for byte. Work is done at a reduced "working" resolution (the heavy layers are
smooth, and the video stage zooms and pans on them anyway) and only the film grain is added at
full size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from storyreel_asset.backdrop import Backdrop, paint_backdrop
from storyreel_asset.character_look import CharacterLook, character_look
from storyreel_asset.composition import (
    Layout,
    Placement,
    figure_boxes,
    layout_for,
    place_figures,
)
from storyreel_asset.figure import VIEWS, draw_figure, feet_y
from storyreel_asset.palette import Palette, mix, palette_for, time_of_day
from storyreel_asset.prop_shapes import LARGE_PROPS, draw_prop, prop_shape, props_in_text
from storyreel_asset.scenery import location_kind
from storyreel_asset.stable_hash import stable_rng
from storyreel_asset.texture import (
    FloatImage,
    add_grain,
    blinds,
    blur,
    colour_vector,
    grade,
    light_rays,
    radial_glow,
    soft_noise,
    to_float,
    to_image,
    to_plane,
    vignette,
)
from storyreel_core.drama_models import Character, FigureBox, Shot

__all__ = [
    "CHARACTER_SHEET_SIZE",
    "CharacterLook",
    "FrameRender",
    "character_look",
    "render_character_sheet",
    "render_design",
    "render_frame",
    "render_frame_with_mask",
]

MIN_SIDE = 64
MAX_SIDE = 4096
# Longest side of the working canvas. Smooth layers drawn at this size and upscaled are
# indistinguishable from full-size ones after grain, and cost a third of the time at 720x1280.
WORKING_MAX_SIDE = 640

BoolImage = npt.NDArray[np.bool_]
# A character sheet's size where nothing else sets it: 3:2, so each of its three views (front,
# side, back) gets a 1:2 panel, about a standing figure's shape.
CHARACTER_SHEET_SIZE = (768, 512)


@dataclass(frozen=True)
class FrameRender:
    """A rendered frame plus what tests and callers may want to know about its composition.

    `figure_mask` is True where a character's body covers the frame (full resolution);
    `cast` lists the character ids actually drawn, principal first; `figures` their face and
    body boxes in frame fractions (what the video stage keeps subtitles clear of).
    """

    image: Image.Image
    figure_mask: BoolImage
    layout: Layout
    cast: tuple[str, ...]
    figures: tuple[FigureBox, ...] = ()

    @property
    def figure_coverage(self) -> float:
        """Fraction of the frame covered by figures."""
        return float(self.figure_mask.mean())


def _check_size(width: int, height: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if not MIN_SIDE <= value <= MAX_SIDE:
            raise ValueError(f"{name} must be within {MIN_SIDE}..{MAX_SIDE}, got {value}")


def _working_size(width: int, height: int) -> tuple[int, int]:
    factor = min(1.0, WORKING_MAX_SIDE / max(width, height))
    return max(16, round(width * factor)), max(16, round(height * factor))


def _cast(shot: Shot, characters: Sequence[Character], limit: int) -> list[Character]:
    """Characters to draw, principal first: the first speaker, else the first listed.

    Ids missing from `characters` still get a figure (named by their id) rather than vanishing,
    since the storyboard says someone is there.
    """
    by_id = {character.id: character for character in characters}
    ids = list(dict.fromkeys(shot.character_ids))
    speakers = [line.character_id for line in shot.dialogue if line.character_id in ids]
    if speakers:
        ids.remove(speakers[0])
        ids.insert(0, speakers[0])
    return [by_id.get(cid, Character(id=cid, name=cid)) for cid in ids[:limit]]


def _draw_cast(
    looks: list[CharacterLook],
    placements: list[Placement],
    layout: Layout,
    palette: Palette,
    size: tuple[int, int],
) -> Image.Image:
    """All figures on a transparent layer, back to front (principal last, in front)."""
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for look, place in reversed(list(zip(looks, placements, strict=True))):
        draw_figure(
            draw,
            look,
            centre_x=place.centre_x,
            head_top=place.head_top_y,
            size=place.height_px,
            leg_scale=layout.leg_scale,
            light=palette.key_light,
        )
    return layer


MAX_PROPS = 2


def shot_props(shot: Shot) -> list[str]:
    """The props to draw in a shot: those the screenplay lists for it (a `props` field of names,
    when the screenplay has one), else those its own text names, at most `MAX_PROPS`."""
    listed = getattr(shot, "props", None) or []
    names = [
        str(
            p
            if isinstance(p, str)
            else getattr(p, "name", None) or (p.get("name") if isinstance(p, dict) else "")
        )
        for p in listed
    ]
    names = [n for n in names if n.strip()]
    if not names:
        text = " ".join(
            [shot.narration, *(line.text for line in shot.dialogue), shot.prompt, shot.description]
        )
        names = props_in_text(text)
    return list(dict.fromkeys(names))[:MAX_PROPS]


def _draw_props(
    pixels: FloatImage,
    names: list[str],
    placements: list[Placement],
    layout: Layout,
    palette: Palette,
    size: tuple[int, int],
) -> None:
    """Props where they are seen: on the ground in the gaps between the figures when their
    feet are in the frame (a boat or a horse about a person's size, hand props scaled to the
    people), else in the lower corners, in front of the figures (below the faces)."""
    if not names:
        return
    width, height = size
    figure_px = placements[0].height_px if placements else layout.figure_height * height
    if placements:
        principal = placements[0]
        ground = feet_y(principal.head_top_y, principal.height_px, layout.leg_scale)
    else:
        ground = (layout.horizon + 0.25) * height
    foreground = ground > 0.97 * height
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    if foreground:
        slots = [0.14, 0.86]
    else:
        # The spots farthest from any figure's centre line, each used once.
        centres = [p.centre_x / width for p in placements]
        spots = (0.5, 0.3, 0.7, 0.12, 0.88, 0.4, 0.6)
        ranked = sorted(spots, key=lambda x: -min((abs(x - c) for c in centres), default=1.0))
        slots = []
        for x in ranked:  # props apart from each other too
            if all(abs(x - other) >= 0.25 for other in slots):
                slots.append(x)

    def is_large(name: str) -> bool:
        shape = getattr(prop_shape(name, name), "__name__", "")
        return name in LARGE_PROPS or shape in ("_boat", "_horse")

    # The big ones take the widest gaps.
    for i, name in enumerate(sorted(names, key=lambda n: not is_large(n))):
        large = is_large(name)
        if foreground:
            unit = (0.16 if large else 0.1) * width
            y = height - 1.0 * unit
        else:
            if large:
                unit = min(0.24 * width, max(0.1 * width, 0.3 * figure_px))
            else:
                unit = min(0.09 * width, max(0.04 * width, 0.08 * figure_px))
            y = min(ground, 0.97 * height) - 0.85 * unit
        draw_prop(
            draw, name, name, palette, size, centre=(slots[i % len(slots)] * width, y), unit=unit
        )
    _composite(pixels, layer, palette, size)


def _shadows(
    pixels: FloatImage, placements: list[Placement], layout: Layout, size: tuple[int, int]
) -> None:
    """Darken the ground under each visible pair of feet, so figures stand rather than float."""
    width, height = size
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    drawn = False
    for place in placements:
        y = feet_y(place.head_top_y, place.height_px, layout.leg_scale)
        if y > height * 1.05:
            continue
        rx = place.height_px * 0.16
        ry = max(1.0, place.height_px * 0.025)
        draw.ellipse((place.centre_x - rx, y - ry, place.centre_x + rx, y + ry), fill=255)
        drawn = True
    if drawn:
        soft = to_plane(blur(mask, max(1.0, 0.006 * max(width, height))))
        pixels *= np.float32(1.0) - np.float32(0.5) * soft


def _light_and_finish(
    pixels: FloatImage,
    backdrop: Backdrop,
    palette: Palette,
    rng: np.random.Generator,
    size: tuple[int, int],
) -> None:
    """Style light on the background, in place: neon/window glow, sun rays, neon spill."""
    width, height = size
    glow_strength = np.float32(1.6 if palette.effect == "neon" else 1.0)
    pixels += to_float(blur(backdrop.glow, 0.02 * max(width, height))) * glow_strength
    if palette.effect in ("rays", "mist") and palette.time != "night":
        strength = 0.25 if palette.effect == "rays" else 0.15
        pixels += light_rays(width, height, backdrop.light_source, palette.light, strength, rng)
    if palette.effect == "neon":
        # Coloured light spilling from off-screen signs, one on each side.
        left = radial_glow(width, height, (0.0, height * 0.35), 0.55 * width)
        right = radial_glow(width, height, (float(width), height * 0.6), 0.55 * width)
        pixels += left * np.float32(0.35) * colour_vector(palette.accent)
        pixels += right * np.float32(0.3) * colour_vector(palette.accent2)


def _composite(
    pixels: FloatImage, layer: Image.Image, palette: Palette, size: tuple[int, int]
) -> BoolImage:
    """Lay the figures over the background with a rim of light; returns the figure mask.

    Figure shapes are drawn opaque, so compositing is a masked copy; the rim is a blurred
    alpha minus the alpha, tinted by the key light colour (neon for cyberpunk), which
    separates people from busy backgrounds.
    """
    width, height = size
    alpha_image = layer.getchannel("A")
    mask: BoolImage = np.asarray(alpha_image) > 0
    if not mask.any():
        return mask
    np.copyto(pixels, to_float(layer.convert("RGB")), where=mask[None, :, :])
    halo = to_plane(blur(alpha_image, 0.012 * max(width, height)))
    rim = np.clip(halo - mask, 0.0, 1.0)
    neon = palette.effect == "neon"
    colour = palette.accent if neon else mix(palette.light, palette.sky_horizon, 0.4)
    pixels += rim * np.float32(0.9 if neon else 0.35) * colour_vector(colour)
    return mask


def _post(
    pixels: FloatImage, palette: Palette, rng: np.random.Generator, size: tuple[int, int]
) -> FloatImage:
    """Whole-frame finish: blinds (noir), paper fibre (ink), grade, vignette, grain."""
    width, height = size
    if palette.effect == "blinds":
        pixels *= blinds(width, height, 0.35, rng)
    if palette.effect == "paper":
        fibre = soft_noise(rng, width, height, 40) + soft_noise(rng, width, height, 9)
        pixels *= np.float32(1.0) + np.float32(0.025) * fibre
    pixels = grade(pixels, palette)
    pixels *= vignette(width, height, palette.vignette)
    add_grain(pixels, palette.grain * 0.9, rng)
    return pixels


def _finish(pixels: FloatImage, out_size: tuple[int, int]) -> Image.Image:
    image = to_image(pixels)
    if image.size != out_size:
        image = image.resize(out_size, Image.Resampling.BILINEAR)
    return image


def render_frame_with_mask(
    shot: Shot,
    characters: Sequence[Character],
    *,
    style: str,
    width: int,
    height: int,
    seed: int = 0,
) -> FrameRender:
    """Render a shot and report where its figures are (see `render_frame`)."""
    _check_size(width, height)
    palette = palette_for(style, time_of_day(shot.time))
    layout = layout_for(shot.shot_type)
    size = _working_size(width, height)
    work_w, work_h = size
    kind = location_kind(shot.location, shot.prompt, shot.description)
    scene_key: tuple[object, ...] = (seed, shot.scene_id or shot.location)
    backdrop = paint_backdrop(kind, palette, layout, work_w, work_h, scene_key)
    shot_rng = stable_rng(seed, shot.scene_id, shot.id, "light")

    cast = _cast(shot, characters, layout.max_figures)
    looks = [character_look(character) for character in cast]
    placements = place_figures(layout, [look.height for look in looks], work_w, work_h)

    pixels = backdrop.pixels
    _shadows(pixels, placements, layout, size)
    _light_and_finish(pixels, backdrop, palette, shot_rng, size)
    props = shot_props(shot)
    in_front = (
        bool(placements)
        and feet_y(placements[0].head_top_y, placements[0].height_px, layout.leg_scale)
        > 0.97 * work_h
    )
    if not in_front:
        _draw_props(pixels, props, placements, layout, palette, size)
    layer = _draw_cast(looks, placements, layout, palette, size)
    work_mask = _composite(pixels, layer, palette, size)
    if in_front:
        _draw_props(pixels, props, placements, layout, palette, size)
    image = _finish(_post(pixels, palette, shot_rng, size), (width, height))

    if (work_w, work_h) != (width, height):
        mask_image = Image.fromarray(work_mask).resize((width, height), Image.Resampling.NEAREST)
        mask: BoolImage = np.asarray(mask_image, dtype=np.bool_)
    else:
        mask = work_mask
    return FrameRender(
        image=image,
        figure_mask=mask,
        layout=layout,
        cast=tuple(character.id for character in cast),
        figures=figure_boxes(placements, [c.id for c in cast], layout, work_w, work_h),
    )


def render_frame(
    shot: Shot,
    characters: Sequence[Character],
    *,
    style: str,
    width: int,
    height: int,
    seed: int = 0,
) -> Image.Image:
    """An RGB frame of exactly `width` x `height` for one storyboard shot.

    The palette comes from `style` re-lit by `shot.time`; the scenery from keywords in the
    location/prompt, seeded by (seed, scene) so a scene keeps its look across shots; the
    framing from `shot.shot_type`; and each character's look only from their id, name and
    gender. Same inputs always give byte-identical pixels.
    """
    return render_frame_with_mask(
        shot, characters, style=style, width=width, height=height, seed=seed
    ).image


def render_character_sheet(
    character: Character, *, style: str, width: int, height: int, seed: int = 0
) -> Image.Image:
    """A character sheet: the turnaround of one character, full body, on a plain studio
    backdrop; three evenly spaced panels, left to right the front, side (profile, facing
    right) and back views (`VIEWS`), each a third of `width`.

    Drawn by the same figure routine and daylight key as frames, so the sheet matches how the
    character appears in shots; the three figures share height, proportions and colours. No
    name is written: the image is a visual reference only. The grain is seeded by the
    character's id and `seed`, so the same inputs give the same pixels. A 3:2 landscape size
    (768x512) gives each view a 1:2 panel.

    Raises ValueError when a side is outside MIN_SIDE..MAX_SIDE.
    """
    _check_size(width, height)
    palette = palette_for(style, "day")
    size = _working_size(width, height)
    work_w, work_h = size
    top = colour_vector(mix(palette.wall, palette.sky_horizon, 0.3))
    bottom = colour_vector(mix(palette.wall, palette.ground_far, 0.5))
    t = np.linspace(0.0, 1.0, work_h, dtype=np.float32)[None, :, None]
    pixels: FloatImage = np.repeat(top + (bottom - top) * t, work_w, axis=2)
    panel_w = work_w / len(VIEWS)
    for i in range(len(VIEWS)):
        spot = radial_glow(
            work_w, work_h, ((i + 0.5) * panel_w, work_h * 0.4), 0.45 * max(panel_w, work_h)
        )
        pixels += spot * np.float32(40.0 / len(VIEWS))

    look = character_look(character)
    # One size for all three, fitting the front view's shoulders and hands in a panel.
    figure_px = min(work_h * 0.82, 0.8 * panel_w / 0.3)
    head_top = work_h * 0.09
    places = [
        Placement(index=i, centre_x=(i + 0.5) * panel_w, head_top_y=head_top, height_px=figure_px)
        for i in range(len(VIEWS))
    ]
    layout = layout_for("wide")
    _shadows(pixels, places, layout, size)
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for view, place in zip(VIEWS, places, strict=True):
        draw_figure(
            draw,
            look,
            centre_x=place.centre_x,
            head_top=head_top,
            size=figure_px,
            light=palette.key_light,
            view=view,
        )
    _composite(pixels, layer, palette, size)
    pixels = grade(pixels, palette) * vignette(work_w, work_h, palette.vignette * 0.6)
    add_grain(pixels, palette.grain * 0.6, stable_rng(seed, character.id, "sheet"))
    return _finish(pixels, (width, height))


def render_design(
    kind: Literal["prop", "scene"],
    name: str,
    description: str,
    *,
    style: str,
    width: int,
    height: int,
    seed: int = 0,
) -> Image.Image:
    """A design image: a location's scenery ("scene") or a centred object silhouette ("prop").

    A scene design is the wide, unpeopled view of the location keyed by its name, i.e. the
    same place the frames of a scene with that key show. A prop is a recognisable shape (by
    keyword, else hashed from the name) on a spotlit backdrop in the style's palette.
    """
    _check_size(width, height)
    text = f"{name} {description}"
    palette = palette_for(style, time_of_day(description))
    size = _working_size(width, height)
    work_w, work_h = size
    rng = stable_rng(seed, kind, name, "design")
    if kind == "scene":
        layout = layout_for("wide")
        backdrop = paint_backdrop(
            location_kind(name, description), palette, layout, work_w, work_h, (seed, name)
        )
        pixels = backdrop.pixels
        _light_and_finish(pixels, backdrop, palette, rng, size)
    else:
        top = colour_vector(mix(palette.sky_top, palette.wall, 0.5))
        bottom = colour_vector(mix(palette.ground_near, palette.near, 0.5))
        t = np.linspace(0.0, 1.0, work_h, dtype=np.float32)[None, :, None]
        pixels = np.repeat(top + (bottom - top) * t, work_w, axis=2)
        spot = radial_glow(work_w, work_h, (work_w / 2, work_h * 0.5), 0.4 * min(work_w, work_h))
        pixels += spot * np.float32(0.35) * colour_vector(palette.light)
        layer = Image.new("RGBA", size, (0, 0, 0, 0))
        draw_prop(ImageDraw.Draw(layer), text, name, palette, size)
        _composite(pixels, layer, palette, size)
    return _finish(_post(pixels, palette, rng, size), (width, height))
