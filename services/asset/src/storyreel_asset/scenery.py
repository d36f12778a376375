"""Scenery: the location's silhouettes (skylines, trees, ridges, rooms, streets, shores).

Locations are free text, so a keyword table (Chinese and English) maps them to one of a few
scenery kinds. Each kind is laid out in "world" units around the frame centre (1 unit is the
frame's shorter side at zoom 1), from a generator seeded by the scene, so every shot of a scene
shows the same skyline, only framed differently by the shot type's zoom and horizon.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from storyreel_asset.palette import RGB, Palette, mix, scale, to_int

LocationKind = Literal["room", "street", "city", "forest", "mountain", "water", "field"]

# Interiors come first: "office building" or "房间里看城市" should be a room, not a skyline.
_LOCATION_WORDS: tuple[tuple[LocationKind, tuple[str, ...]], ...] = (
    (
        "room",
        (
            "room",
            "office",
            "house",
            "home",
            "apartment",
            "flat",
            "bedroom",
            "kitchen",
            "cafe",
            "café",
            "coffee",
            "restaurant",
            "bar",
            "classroom",
            "hospital",
            "hall",
            "library",
            "shop",
            "store",
            "inside",
            "indoor",
            "interior",
            "studio",
            "lobby",
            "室",
            "房",
            "屋",
            "厅",
            "家",
            "店",
            "馆",
            "办公",
            "教室",
            "医院",
            "客栈",
            "酒吧",
            "咖啡",
            "宿舍",
            "病房",
            "书房",
            "宫殿",
            "殿",
            "内",
            "里面",
            "府",
        ),
    ),
    (
        "street",
        (
            "street",
            "road",
            "alley",
            "avenue",
            "crossing",
            "crosswalk",
            "highway",
            "街",
            "路",
            "巷",
            "马路",
            "胡同",
            "十字路口",
        ),
    ),
    (
        "city",
        (
            "city",
            "downtown",
            "skyline",
            "rooftop",
            "roof",
            "building",
            "tower",
            "urban",
            "metropolis",
            "bridge",
            "城",
            "市",
            "楼",
            "大厦",
            "都市",
            "天台",
            "桥",
        ),
    ),
    (
        "forest",
        (
            "forest",
            "wood",
            "tree",
            "park",
            "garden",
            "jungle",
            "bamboo",
            "grove",
            "林",
            "森",
            "树",
            "公园",
            "花园",
            "竹",
            "园",
        ),
    ),
    (
        "mountain",
        (
            "mountain",
            "hill",
            "cliff",
            "peak",
            "valley",
            "canyon",
            "summit",
            "temple",
            "山",
            "峰",
            "崖",
            "谷",
            "岭",
            "寺",
        ),
    ),
    (
        "water",
        (
            "sea",
            "ocean",
            "beach",
            "lake",
            "river",
            "harbor",
            "harbour",
            "shore",
            "coast",
            "pier",
            "海",
            "湖",
            "河",
            "江",
            "滩",
            "岸",
            "港",
            "码头",
            "水",
        ),
    ),
)


def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """English words must start at a word boundary ("sea" is not "research") and may take a
    plural ending; Chinese keywords match anywhere (Chinese text has no spaces)."""
    parts = [
        rf"\b{re.escape(word)}(?:s|es)?\b" if word.isascii() else re.escape(word) for word in words
    ]
    return re.compile("|".join(parts))


_PATTERNS = tuple((kind, _pattern(words)) for kind, words in _LOCATION_WORDS)


def location_kind(location: str, *hints: str) -> LocationKind:
    """Classify a location; the location text decides, other texts (prompt) break silence.

    Within one text the earliest keyword wins, because descriptions tend to lead with the
    place ("rooftop of an office tower" is a city rooftop, not an office).
    """
    for text in (location, *hints):
        lowered = text.lower()
        best: tuple[int, LocationKind] | None = None
        for kind, pattern in _PATTERNS:
            found = pattern.search(lowered)
            if found is not None and (best is None or found.start() < best[0]):
                best = (found.start(), kind)
        if best is not None:
            return best[1]
    return "field"


@dataclass(frozen=True)
class View:
    """World-to-pixel mapping for one frame: world x 0.5 is the frame centre, world heights
    grow upwards from the horizon row."""

    width: int
    height: int
    horizon: float
    unit: float
    stretch: float = 1.0

    def x(self, world_x: float) -> float:
        return self.width * 0.5 + (world_x - 0.5) * self.unit

    def up(self, world_h: float) -> float:
        """Pixel row `world_h` units above the horizon."""
        return self.horizon - world_h * self.unit * self.stretch


@dataclass
class SceneCanvas:
    """The background being painted, plus a glow layer of light sources that is blurred and
    added later (neon, lit windows, lamps, sun glints)."""

    image: Image.Image
    glow: Image.Image

    def __post_init__(self) -> None:
        self.draw = ImageDraw.Draw(self.image)
        self.glow_draw = ImageDraw.Draw(self.glow)


WORLD_LEFT = -3.0
WORLD_RIGHT = 4.0  # wide enough for a 4:1 frame at the widest zoom


def draw_scenery(
    canvas: SceneCanvas, kind: LocationKind, palette: Palette, view: View, rng: np.random.Generator
) -> None:
    """Paint the location's silhouettes over the sky and ground gradients."""
    painters = {
        "city": _city,
        "street": _street,
        "room": _room,
        "forest": _forest,
        "mountain": _mountains,
        "water": _water,
        "field": _field,
    }
    painters[kind](canvas, palette, view, rng)


# ----------------------------------------------------------------------------- helpers


def _ridge(
    rng: np.random.Generator, count: int, low: float, high: float, smooth: int
) -> npt.NDArray[np.float64]:
    """A smooth random skyline profile between `low` and `high` (world heights)."""
    walk = np.cumsum(rng.normal(0.0, 1.0, count + smooth))
    kernel = np.ones(smooth) / smooth
    profile = np.convolve(walk, kernel, mode="valid")[:count]
    profile = (profile - profile.min()) / max(1e-9, float(np.ptp(profile)))
    result: npt.NDArray[np.float64] = low + (high - low) * profile
    return result


def _ridge_polygon(
    view: View, heights: npt.NDArray[np.float64], base_y: float
) -> list[tuple[float, float]]:
    xs = np.linspace(WORLD_LEFT, WORLD_RIGHT, len(heights))
    points = [(view.x(float(x)), view.up(float(h))) for x, h in zip(xs, heights, strict=True)]
    return [(view.x(WORLD_LEFT), base_y), *points, (view.x(WORLD_RIGHT), base_y)]


def _lamp_colour(palette: Palette) -> RGB:
    return mix((255, 214, 150), palette.accent2, 0.25)


def _glow_ellipse(canvas: SceneCanvas, x: float, y: float, r: float, colour: RGB) -> None:
    canvas.glow_draw.ellipse((x - r, y - r, x + r, y + r), fill=to_int(colour))


# ----------------------------------------------------------------------------- city


def _buildings(
    canvas: SceneCanvas,
    palette: Palette,
    view: View,
    rng: np.random.Generator,
    colour: RGB,
    heights: tuple[float, float],
    widths: tuple[float, float],
    windows: bool,
    base_y: float | None = None,
) -> None:
    """One row of rectangular buildings; random draws do not depend on the frame size."""
    draw = canvas.draw
    fill = to_int(colour)
    lit_colour = to_int(_lamp_colour(palette)) if palette.lights_on else None
    dark_window = to_int(mix(colour, palette.sky_horizon, 0.22))
    bottom = view.horizon + 1 if base_y is None else base_y
    x = WORLD_LEFT
    while x < WORLD_RIGHT:
        w = float(rng.uniform(*widths))
        h = float(rng.uniform(*heights))
        antenna = rng.random() < 0.25
        neon = rng.random() < 0.35
        neon_pick = rng.random()
        cols = max(1, int(w / 0.04))
        rows = max(1, int(h / 0.055))
        lit = rng.random((rows, cols)) < 0.42
        x0, x1 = view.x(x), view.x(x + w)
        top = view.up(h)
        x += w + float(rng.uniform(0.0, 0.03))
        if x1 < 0 or x0 > view.width:
            continue
        draw.rectangle((x0, top, x1, bottom), fill=fill)
        if antenna:
            mid = (x0 + x1) / 2
            draw.line([(mid, top), (mid, top - 0.06 * view.unit * view.stretch)], fill=fill)
        cell_w = (x1 - x0) / cols
        cell_h = (bottom - top) / (rows + 0.5)
        if windows and cell_w >= 2.5 and cell_h >= 2.5:
            for r in range(rows):
                wy = top + (r + 0.35) * cell_h
                for c in range(cols):
                    wx = x0 + (c + 0.25) * cell_w
                    on = bool(lit[r, c])
                    if lit_colour is not None and on:
                        draw.rectangle(
                            (wx, wy, wx + cell_w * 0.5, wy + cell_h * 0.45), fill=lit_colour
                        )
                    elif lit_colour is None:
                        draw.rectangle(
                            (wx, wy, wx + cell_w * 0.5, wy + cell_h * 0.45), fill=dark_window
                        )
        if neon and palette.effect == "neon":
            sign = palette.accent if neon_pick < 0.5 else palette.accent2
            sx = x0 + (x1 - x0) * (0.15 + 0.5 * neon_pick)
            sw = max(1.0, (x1 - x0) * 0.12)
            sy0 = top + (bottom - top) * 0.1
            sy1 = top + (bottom - top) * (0.35 + 0.3 * neon_pick)
            draw.rectangle((sx, sy0, sx + sw, sy1), fill=to_int(mix(sign, (255, 255, 255), 0.35)))
            canvas.glow_draw.rectangle(
                (sx - sw, sy0 - sw, sx + 2 * sw, sy1 + sw), fill=to_int(sign)
            )


def _city(canvas: SceneCanvas, palette: Palette, view: View, rng: np.random.Generator) -> None:
    far = mix(palette.far, palette.sky_horizon, 0.45)
    _buildings(canvas, palette, view, rng, far, (0.45, 1.25), (0.1, 0.22), False)
    _buildings(canvas, palette, view, rng, palette.far, (0.25, 0.8), (0.12, 0.26), True)
    _buildings(canvas, palette, view, rng, palette.near, (0.1, 0.42), (0.15, 0.32), True)


# ----------------------------------------------------------------------------- street


def _street(canvas: SceneCanvas, palette: Palette, view: View, rng: np.random.Generator) -> None:
    """A street receding to a vanishing point, facades on both sides, lamps along the kerb."""
    draw = canvas.draw
    vp = view.x(0.5 + float(rng.uniform(-0.12, 0.12)))
    unit = view.unit
    bottom = view.height + 1
    # Distant skyline at the end of the street.
    _buildings(
        canvas,
        palette,
        view,
        rng,
        mix(palette.far, palette.sky_horizon, 0.35),
        (0.1, 0.45),
        (0.05, 0.12),
        False,
    )
    asphalt = mix(palette.ground_near, (42, 42, 48), 0.55)
    pavement = mix(palette.ground_far, (150, 146, 140), 0.35)

    def depth_x(side: float, offset: float, z: float) -> float:
        return vp + side * offset * unit / (z + 1.0)

    def ground(z: float) -> float:
        return view.horizon + 0.55 * unit / (z + 1.0)

    draw.polygon(
        [
            (depth_x(-1, 1.6, 60), ground(60)),
            (depth_x(1, 1.6, 60), ground(60)),
            (depth_x(1, 1.6, 0.0), bottom),
            (depth_x(-1, 1.6, 0.0), bottom),
        ],
        fill=to_int(pavement),
    )
    draw.polygon(
        [
            (depth_x(-1, 1.0, 60), ground(60)),
            (depth_x(1, 1.0, 60), ground(60)),
            (depth_x(1, 1.0, 0.0), bottom),
            (depth_x(-1, 1.0, 0.0), bottom),
        ],
        fill=to_int(asphalt),
    )
    # Centre dashes: drawn in depth so they shrink toward the vanishing point.
    dash = to_int(mix(asphalt, (230, 220, 190), 0.6))
    for i in range(14):
        z0, z1 = i * 1.4, i * 1.4 + 0.6
        draw.polygon(
            [
                (depth_x(-1, 0.03, z0), ground(z0)),
                (depth_x(1, 0.03, z0), ground(z0)),
                (depth_x(1, 0.03, z1), ground(z1)),
                (depth_x(-1, 0.03, z1), ground(z1)),
            ],
            fill=dash,
        )
    lamp = _lamp_colour(palette)
    for side in (-1.0, 1.0):
        z = 0.0
        shade = palette.near if side < 0 else mix(palette.near, palette.far, 0.35)
        while z < 40:
            dz = float(rng.uniform(0.8, 2.4))
            h = float(rng.uniform(0.8, 2.2))
            sign = rng.random()
            z1 = z + dz
            xa, xb = depth_x(side, 1.6, z), depth_x(side, 1.6, z1)
            xo = depth_x(side, 1.6, 0.0) + side * unit * 3  # off-frame outer edge
            top_a = view.horizon - h * unit * view.stretch / (z + 1.0)
            top_b = view.horizon - h * unit * view.stretch / (z1 + 1.0)
            colour = mix(shade, palette.sky_horizon, min(0.6, z / 60))
            draw.polygon(
                [(xa, top_a), (xb, top_b), (xb, ground(z1)), (xa, ground(z))], fill=to_int(colour)
            )
            if z == 0.0:
                draw.rectangle((min(xo, xa), top_a, max(xo, xa), bottom), fill=to_int(colour))
            # Floor lines on the facade.
            line = to_int(scale(colour, 0.75))
            for level in np.arange(0.25, h, 0.3):
                ya = view.horizon - level * unit * view.stretch / (z + 1.0)
                yb = view.horizon - level * unit * view.stretch / (z1 + 1.0)
                draw.line([(xa, ya), (xb, yb)], fill=line)
            if palette.effect == "neon" and sign < 0.5:
                neon = palette.accent if sign < 0.25 else palette.accent2
                y_mid = (top_a + ground(z)) / 2
                y_mid_b = (top_b + ground(z1)) / 2
                quad = [
                    (xa, y_mid),
                    (xb, y_mid_b),
                    (xb, y_mid_b + 0.1 * unit / (z1 + 1)),
                    (xa, y_mid + 0.1 * unit / (z + 1)),
                ]
                draw.polygon(quad, fill=to_int(mix(neon, (255, 255, 255), 0.3)))
                canvas.glow_draw.polygon(quad, fill=to_int(neon))
            # Street lamp at the front of each facade.
            px = depth_x(side, 1.2, z1)
            post_top = view.horizon - 0.75 * unit / (z1 + 1.0)
            pole = to_int(scale(palette.near, 0.7))
            draw.line(
                [(px, ground(z1)), (px, post_top)],
                fill=pole,
                width=max(1, round(0.02 * unit / (z1 + 1.0))),
            )
            if palette.lights_on:
                _glow_ellipse(canvas, px, post_top, 0.08 * unit / (z1 + 1.0), lamp)
                r = 0.02 * unit / (z1 + 1.0)
                draw.ellipse(
                    (px - r, post_top - r, px + r, post_top + r),
                    fill=to_int(mix(lamp, (255, 255, 255), 0.5)),
                )
            z = z1


# ----------------------------------------------------------------------------- room


def _room(canvas: SceneCanvas, palette: Palette, view: View, rng: np.random.Generator) -> None:
    """Back wall with a window (day sky or night city), a picture, a lamp and floorboards.

    The wall and floor gradients are painted by the backdrop; this adds the furnishings.
    """
    draw = canvas.draw
    unit = view.unit
    wx = float(rng.uniform(-0.15, 0.45))
    ww = float(rng.uniform(0.38, 0.55))
    wh = float(rng.uniform(0.5, 0.72))
    sill = float(rng.uniform(0.22, 0.34))
    picture_x = float(rng.uniform(0.62, 1.05))
    lamp_x = float(rng.uniform(-0.5, 0.05))
    curtain = rng.random() < 0.7
    skyline = _ridge(rng, 24, 0.0, 0.3, 3)
    frame_colour = to_int(scale(palette.wall, 0.62))

    # Window, framed; its view is the scene's sky and a distant skyline.
    x0, x1 = view.x(wx), view.x(wx + ww)
    y1, y0 = view.up(sill), view.up(sill + wh)
    bands = 8
    for i in range(bands):
        t = i / (bands - 1)
        colour = mix(palette.sky_top, palette.sky_horizon, t)
        draw.rectangle(
            (x0, y0 + (y1 - y0) * i / bands, x1, y0 + (y1 - y0) * (i + 1) / bands),
            fill=to_int(colour),
        )
    skyline_colour = to_int(mix(palette.far, palette.sky_horizon, 0.3))
    for i, h in enumerate(skyline):
        bx0 = x0 + (x1 - x0) * i / len(skyline)
        bx1 = x0 + (x1 - x0) * (i + 1) / len(skyline)
        draw.rectangle((bx0, y1 - (y1 - y0) * float(h), bx1, y1), fill=skyline_colour)
    if palette.lights_on:
        for i in range(0, len(skyline), 3):
            bx = x0 + (x1 - x0) * (i + 0.5) / len(skyline)
            _glow_ellipse(
                canvas,
                bx,
                y1 - (y1 - y0) * float(skyline[i]) * 0.5,
                0.012 * unit,
                _lamp_colour(palette),
            )
    bar = max(1.0, 0.018 * unit)
    draw.rectangle((x0 - bar, y0 - bar, x1 + bar, y0), fill=frame_colour)
    draw.rectangle((x0 - bar, y1, x1 + bar, y1 + bar * 1.6), fill=frame_colour)
    draw.rectangle((x0 - bar, y0, x0, y1), fill=frame_colour)
    draw.rectangle((x1, y0, x1 + bar, y1), fill=frame_colour)
    draw.rectangle(((x0 + x1) / 2 - bar / 2, y0, (x0 + x1) / 2 + bar / 2, y1), fill=frame_colour)
    draw.rectangle((x0, (y0 + y1) / 2 - bar / 2, x1, (y0 + y1) / 2 + bar / 2), fill=frame_colour)
    if not palette.lights_on:
        # Daylight spilling through the window onto the wall and floor.
        spill = mix(palette.light, palette.wall, 0.3)
        canvas.glow_draw.polygon(
            [
                (x0, y1),
                (x1, y1),
                (x1 + (x1 - x0) * 0.6, view.horizon + unit * 0.3),
                (x0 + (x1 - x0) * 0.2, view.horizon + unit * 0.3),
            ],
            fill=to_int(scale(spill, 0.45)),
        )
    if curtain:
        cloth = to_int(mix(palette.accent, palette.wall, 0.45))
        for edge, direction in ((x0, -1.0), (x1, 1.0)):
            draw.polygon(
                [
                    (edge - direction * 0.02 * unit, y0 - bar * 2),
                    (edge + direction * 0.1 * unit, y0 - bar * 2),
                    (edge + direction * 0.13 * unit, y1 + 0.35 * unit),
                    (edge + direction * 0.01 * unit, y1 + 0.35 * unit),
                ],
                fill=cloth,
            )

    # A framed picture on the wall.
    px0, px1 = view.x(picture_x), view.x(picture_x + 0.22)
    py1, py0 = view.up(sill + 0.15), view.up(sill + 0.45)
    draw.rectangle((px0, py0, px1, py1), fill=frame_colour)
    inset = max(1.0, 0.02 * unit)
    draw.rectangle(
        (px0 + inset, py0 + inset, px1 - inset, py1 - inset),
        fill=to_int(mix(palette.accent2, palette.wall, 0.4)),
    )

    # Floor lamp: warm pool of light once lights are on.
    lx = view.x(lamp_x)
    lamp_top = view.up(0.62)
    pole = to_int(scale(palette.near, 0.8))
    draw.line(
        [(lx, view.horizon + 0.05 * unit), (lx, lamp_top)],
        fill=pole,
        width=max(1, round(0.012 * unit)),
    )
    shade = [
        (lx - 0.07 * unit, lamp_top + 0.02 * unit),
        (lx + 0.07 * unit, lamp_top + 0.02 * unit),
        (lx + 0.04 * unit, lamp_top - 0.09 * unit),
        (lx - 0.04 * unit, lamp_top - 0.09 * unit),
    ]
    lamp = _lamp_colour(palette)
    draw.polygon(shade, fill=to_int(mix(lamp, palette.wall, 0.2 if palette.lights_on else 0.6)))
    if palette.lights_on:
        _glow_ellipse(canvas, lx, lamp_top, 0.28 * unit, scale(lamp, 0.85))

    # Skirting board and floorboards converging on the centre.
    draw.rectangle((0, view.horizon - 0.03 * unit, view.width, view.horizon), fill=frame_colour)
    board = to_int(scale(palette.ground_far, 0.8))
    vp = view.x(0.5)
    for i in range(-12, 13):
        draw.line(
            [(vp + i * 0.08 * unit, view.horizon), (vp + i * 0.9 * unit, view.height)], fill=board
        )


# ----------------------------------------------------------------------------- nature


def _tree(
    draw: ImageDraw.ImageDraw, x: float, base: float, size: float, colour: RGB, conifer: bool
) -> None:
    fill = to_int(colour)
    trunk = to_int(scale(colour, 0.7))
    draw.rectangle((x - size * 0.04, base - size * 0.3, x + size * 0.04, base), fill=trunk)
    if conifer:
        for tier in range(3):
            y_base = base - size * (0.2 + tier * 0.22)
            half = size * (0.28 - tier * 0.06)
            draw.polygon(
                [(x - half, y_base), (x + half, y_base), (x, y_base - size * 0.38)], fill=fill
            )
    else:
        draw.ellipse(
            (x - size * 0.3, base - size * 0.95, x + size * 0.3, base - size * 0.3), fill=fill
        )
        draw.ellipse(
            (x - size * 0.18, base - size * 1.05, x + size * 0.22, base - size * 0.6), fill=fill
        )


def _tree_row(
    canvas: SceneCanvas,
    view: View,
    rng: np.random.Generator,
    colour: RGB,
    sizes: tuple[float, float],
    spacing: tuple[float, float],
    drop: float,
    conifer_share: float,
) -> None:
    x = WORLD_LEFT
    while x < WORLD_RIGHT:
        size = float(rng.uniform(*sizes))
        conifer = rng.random() < conifer_share
        sink = float(rng.uniform(0.0, drop))
        px = view.x(x)
        size_px = size * view.unit * view.stretch
        x += float(rng.uniform(*spacing))
        if px < -size_px or px > view.width + size_px:
            continue
        _tree(
            canvas.draw,
            px,
            view.horizon + (drop * 0.3 + sink) * view.unit,
            size_px,
            colour,
            conifer,
        )


def _forest(canvas: SceneCanvas, palette: Palette, view: View, rng: np.random.Generator) -> None:
    share = float(rng.uniform(0.3, 0.9))
    green = mix(palette.near, (40, 90, 50), 0.35)
    _tree_row(
        canvas,
        view,
        rng,
        mix(palette.far, palette.sky_horizon, 0.45),
        (0.25, 0.45),
        (0.06, 0.12),
        0.0,
        share,
    )
    _tree_row(
        canvas, view, rng, mix(green, palette.far, 0.45), (0.45, 0.8), (0.12, 0.25), 0.05, share
    )
    # Near trees stand apart, framing the path rather than walling off the sky.
    _tree_row(canvas, view, rng, green, (0.55, 0.95), (0.45, 1.0), 0.2, share)


def _mountains(canvas: SceneCanvas, palette: Palette, view: View, rng: np.random.Generator) -> None:
    draw = canvas.draw
    bottom = view.height + 1
    layers = (
        (mix(palette.far, palette.sky_horizon, 0.5), 0.35, 1.1, 9),
        (palette.far, 0.15, 0.6, 6),
        (mix(palette.near, palette.far, 0.3), -0.05, 0.3, 5),
    )
    for colour, low, high, smooth in layers:
        heights = _ridge(rng, 140, low, high, smooth)
        draw.polygon(_ridge_polygon(view, heights, bottom), fill=to_int(colour))
    _tree_row(canvas, view, rng, palette.near, (0.12, 0.22), (0.1, 0.4), 0.1, 0.8)


def _water(canvas: SceneCanvas, palette: Palette, view: View, rng: np.random.Generator) -> None:
    """Sea or lake: low far shore, glints on the water, sometimes a sandy foreground."""
    draw = canvas.draw
    shore = _ridge(rng, 80, -0.02, 0.16, 6)
    draw.polygon(
        _ridge_polygon(view, shore, view.horizon + 1),
        fill=to_int(mix(palette.far, palette.sky_horizon, 0.4)),
    )
    glint = mix(palette.light, palette.sky_horizon, 0.2)
    sun_x = float(rng.uniform(0.2, 0.8))
    streaks = rng.random((60, 3))
    sand = rng.random() < 0.6
    depth = view.height - view.horizon
    for u, v, w in streaks:
        y = view.horizon + depth * float(v) ** 2
        x = view.x(sun_x + (float(u) - 0.5) * (0.2 + float(v)))
        half = (0.02 + 0.08 * float(w)) * view.unit * (0.3 + float(v))
        canvas.glow_draw.line(
            [(x - half, y), (x + half, y)],
            fill=to_int(scale(glint, 0.7)),
            width=max(1, round(view.unit * 0.004 * (1 + float(v)))),
        )
    if sand:
        edge = _ridge(rng, 60, -0.5, -0.38, 8)
        draw.polygon(
            _ridge_polygon(view, edge, view.height + 1),
            fill=to_int(mix(palette.ground_near, (214, 192, 150), 0.5)),
        )


def _field(canvas: SceneCanvas, palette: Palette, view: View, rng: np.random.Generator) -> None:
    """Open country, the fallback: rolling hills with scattered trees."""
    draw = canvas.draw
    bottom = view.height + 1
    far = _ridge(rng, 90, 0.05, 0.35, 12)
    draw.polygon(
        _ridge_polygon(view, far, bottom), fill=to_int(mix(palette.far, palette.sky_horizon, 0.4))
    )
    _tree_row(
        canvas, view, rng, mix(palette.near, palette.far, 0.5), (0.12, 0.2), (0.2, 0.9), 0.0, 0.3
    )
    near = _ridge(rng, 90, -0.1, 0.1, 14)
    draw.polygon(
        _ridge_polygon(view, near, bottom),
        fill=to_int(mix(palette.ground_far, palette.ground_near, 0.3)),
    )
    _tree_row(canvas, view, rng, palette.near, (0.35, 0.6), (0.6, 1.8), 0.1, 0.3)
