"""Colour palettes: what a style string and a time of day mean in colours.

A storyboard only carries free text ("赛博朋克", "warm healing", "noir") for style and
("night", "黄昏") for time, so this module turns both into one concrete `Palette` that every
drawing layer reads. Keeping all colour decisions here means a style reads the same in frames,
character sheets and design images.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, replace
from typing import Literal

from storyreel_asset.stable_hash import stable_digest

RGB = tuple[float, float, float]
Effect = Literal["neon", "rays", "blinds", "paper", "mist"]
TimeOfDay = Literal["day", "dawn", "dusk", "night"]


@dataclass(frozen=True)
class Palette:
    """Every colour and finishing choice one image needs.

    Colours are floats in 0..255 so grading maths stays exact until the final quantisation.
    `key_light` multiplies figure colours: people are lit by the same light as the scene, which
    is what makes a night frame read as night even in a close-up.
    """

    style: str
    time: TimeOfDay
    sky_top: RGB
    sky_horizon: RGB
    ground_far: RGB
    ground_near: RGB
    far: RGB
    near: RGB
    wall: RGB
    accent: RGB
    accent2: RGB
    light: RGB
    key_light: RGB
    effect: Effect
    saturation: float
    tint: RGB | None
    grain: int
    vignette: float
    lights_on: bool


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """Linear blend from `a` (t=0) to `b` (t=1)."""
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def scale(a: RGB, m: RGB | float) -> RGB:
    """Per-channel multiply, clamped to the displayable range."""
    mr, mg, mb = (m, m, m) if isinstance(m, float | int) else m
    return (min(255.0, a[0] * mr), min(255.0, a[1] * mg), min(255.0, a[2] * mb))


def to_int(a: RGB) -> tuple[int, int, int]:
    """Round to the integer triple PIL drawing expects."""
    return (round(a[0]), round(a[1]), round(a[2]))


def hsv(h: float, s: float, v: float) -> RGB:
    """HSV (all 0..1, hue wraps) to an RGB triple in 0..255."""
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, max(0.0, min(1.0, s)), max(0.0, min(1.0, v)))
    return (r * 255.0, g * 255.0, b * 255.0)


def _base(
    style: str,
    sky: tuple[RGB, RGB],
    ground: tuple[RGB, RGB],
    far: RGB,
    near: RGB,
    wall: RGB,
    accents: tuple[RGB, RGB],
    light: RGB,
    key_light: RGB,
    effect: Effect,
    *,
    saturation: float = 1.0,
    tint: RGB | None = None,
    grain: int = 5,
    vignette: float = 0.35,
) -> Palette:
    return Palette(
        style=style,
        time="day",
        sky_top=sky[0],
        sky_horizon=sky[1],
        ground_far=ground[0],
        ground_near=ground[1],
        far=far,
        near=near,
        wall=wall,
        accent=accents[0],
        accent2=accents[1],
        light=light,
        key_light=key_light,
        effect=effect,
        saturation=saturation,
        tint=tint,
        grain=grain,
        vignette=vignette,
        lights_on=False,
    )


# Named styles, in match order: the first whose keyword occurs in the style string wins, so the
# more specific looks (cyberpunk) come before broad words that could co-occur (realistic).
_STYLES: tuple[tuple[tuple[str, ...], Palette], ...] = (
    (
        ("赛博", "cyber", "neon", "霓虹", "科幻", "sci-fi", "scifi", "未来", "futur"),
        _base(
            "cyberpunk",
            ((44, 30, 96), (176, 84, 168)),
            ((70, 46, 104), (26, 20, 50)),
            (84, 60, 130),
            (30, 24, 56),
            (70, 56, 110),
            ((255, 40, 200), (0, 235, 255)),
            (255, 90, 220),
            (0.78, 0.72, 0.98),
            "neon",
            saturation=1.12,
            grain=7,
            vignette=0.5,
        ),
    ),
    (
        ("水墨", "ink", "国画", "墨", "sumi", "brush"),
        _base(
            "ink",
            ((236, 230, 214), (226, 220, 202)),
            ((214, 208, 190), (190, 184, 166)),
            (168, 166, 158),
            (52, 52, 50),
            (220, 214, 198),
            ((120, 30, 28), (70, 70, 68)),
            (250, 246, 232),
            (0.95, 0.95, 0.95),
            "paper",
            saturation=0.08,
            tint=(240, 233, 215),
            grain=4,
            vignette=0.25,
        ),
    ),
    (
        (
            "noir",
            "黑色电影",
            "黑白",
            "悬疑",
            "侦探",
            "犯罪",
            "crime",
            "detective",
            "mystery",
            "暗黑",
        ),
        _base(
            "noir",
            ((40, 42, 46), (120, 122, 126)),
            ((70, 70, 72), (24, 24, 26)),
            (66, 66, 70),
            (20, 20, 22),
            (88, 86, 84),
            ((230, 230, 225), (150, 150, 150)),
            (240, 238, 230),
            (1.05, 1.05, 1.05),
            "blinds",
            saturation=0.0,
            grain=9,
            vignette=0.6,
        ),
    ),
    (
        (
            "温馨",
            "warm",
            "cozy",
            "cosy",
            "治愈",
            "甜",
            "sweet",
            "heal",
            "家庭",
            "family",
            "romance",
        ),
        _base(
            "warm",
            ((246, 178, 112), (255, 224, 168)),
            ((214, 150, 96), (150, 92, 58)),
            (222, 148, 108),
            (128, 74, 48),
            (236, 196, 150),
            ((255, 160, 70), (255, 214, 140)),
            (255, 206, 132),
            (1.04, 0.96, 0.86),
            "rays",
            saturation=1.05,
            grain=4,
            vignette=0.35,
        ),
    ),
    (
        ("仙侠", "玄幻", "fantasy", "magic", "魔法", "奇幻", "修仙", "仙"),
        _base(
            "fantasy",
            ((58, 70, 150), (170, 200, 230)),
            ((110, 150, 140), (50, 84, 80)),
            (110, 120, 180),
            (36, 60, 70),
            (150, 160, 200),
            ((180, 120, 255), (120, 255, 220)),
            (230, 220, 255),
            (0.95, 0.95, 1.05),
            "mist",
            saturation=1.1,
            grain=4,
            vignette=0.4,
        ),
    ),
    (
        ("古风", "国风", "古装", "宫廷", "武侠", "ancient", "wuxia", "palace", "dynasty"),
        _base(
            "ancient",
            ((150, 180, 190), (230, 222, 196)),
            ((170, 150, 110), (110, 88, 60)),
            (120, 140, 130),
            (70, 50, 40),
            (190, 150, 110),
            ((190, 40, 36), (220, 180, 90)),
            (255, 236, 200),
            (1.0, 0.97, 0.92),
            "mist",
            saturation=0.9,
            grain=5,
            vignette=0.4,
        ),
    ),
    (
        ("恐怖", "horror", "惊悚", "thriller", "gothic", "哥特"),
        _base(
            "horror",
            ((14, 24, 20), (60, 80, 66)),
            ((44, 50, 40), (14, 16, 12)),
            (40, 54, 46),
            (10, 14, 12),
            (70, 76, 64),
            ((170, 20, 20), (120, 160, 120)),
            (190, 220, 190),
            (0.7, 0.8, 0.72),
            "mist",
            saturation=0.6,
            grain=9,
            vignette=0.65,
        ),
    ),
    (
        ("动漫", "动画", "二次元", "anime", "cartoon", "卡通", "manga", "漫画"),
        _base(
            "anime",
            ((70, 150, 250), (190, 230, 255)),
            ((120, 200, 110), (70, 150, 80)),
            (120, 170, 220),
            (50, 110, 90),
            (250, 236, 214),
            ((255, 110, 150), (255, 220, 90)),
            (255, 250, 230),
            (1.05, 1.03, 1.0),
            "rays",
            saturation=1.2,
            grain=2,
            vignette=0.2,
        ),
    ),
    (
        ("写实", "realistic", "realism", "cinematic", "电影", "photo", "真实", "现代", "modern"),
        _base(
            "realistic",
            ((92, 146, 214), (196, 216, 232)),
            ((110, 120, 92), (64, 70, 52)),
            (120, 138, 156),
            (52, 62, 58),
            (196, 188, 172),
            ((230, 190, 120), (160, 190, 220)),
            (255, 244, 220),
            (1.0, 0.98, 0.95),
            "rays",
            grain=5,
            vignette=0.35,
        ),
    ),
)

_DEFAULT = _STYLES[-1][1]


def _hashed_palette(style: str) -> Palette:
    """An unknown style still gets its own, repeatable look: hue and mood come from its hash."""
    digest = stable_digest("style", style.strip().lower())
    hue = digest[0] / 256.0
    dark = digest[1] < 96  # about a third of unknown styles are moody
    value = 0.45 if dark else 0.85
    accent_hue = hue + 0.45 + digest[2] / 2560.0
    return _base(
        f"hashed:{style}",
        (hsv(hue, 0.55, value * 0.75), hsv(hue + 0.06, 0.3, value)),
        (hsv(hue + 0.12, 0.35, value * 0.7), hsv(hue + 0.12, 0.45, value * 0.4)),
        hsv(hue - 0.04, 0.3, value * 0.75),
        hsv(hue + 0.1, 0.5, value * 0.3),
        hsv(hue + 0.08, 0.18, value * 0.95),
        (hsv(accent_hue, 0.8, 1.0), hsv(accent_hue + 0.15, 0.6, 0.95)),
        hsv(hue + 0.05, 0.15, 1.0),
        (1.0, 1.0, 1.0),
        "neon" if dark else "rays",
        grain=5,
        vignette=0.4,
    )


def style_palette(style: str) -> Palette:
    """The daytime palette for a free-text style: named looks by keyword, else a hashed one."""
    text = style.strip().lower()
    if not text:
        return _DEFAULT
    for keywords, palette in _STYLES:
        if any(keyword in text for keyword in keywords):
            return palette
    return _hashed_palette(text)


# Checked in this order because "傍晚" (dusk) contains "晚" (night), and "evening" should read as
# dusk rather than night.
_TIME_WORDS: tuple[tuple[TimeOfDay, tuple[str, ...]], ...] = (
    ("dusk", ("dusk", "sunset", "evening", "twilight", "黄昏", "傍晚", "日落", "夕阳", "薄暮")),
    ("night", ("night", "midnight", "夜", "晚", "凌晨", "深夜")),
    ("dawn", ("dawn", "sunrise", "morning", "daybreak", "清晨", "黎明", "拂晓", "早晨", "日出")),
)


def time_of_day(text: str) -> TimeOfDay:
    """Classify a shot's free-text time; anything unrecognised is daylight."""
    lowered = text.strip().lower()
    for time, words in _TIME_WORDS:
        if any(word in lowered for word in words):
            return time
    return "day"


def _night(p: Palette) -> Palette:
    dim: RGB = (0.32, 0.36, 0.55)
    return replace(
        p,
        time="night",
        sky_top=mix(p.sky_top, (4, 7, 24), 0.85),
        sky_horizon=mix(p.sky_horizon, (26, 36, 72), 0.8),
        ground_far=scale(p.ground_far, dim),
        ground_near=scale(p.ground_near, dim),
        far=scale(p.far, dim),
        near=scale(p.near, dim),
        wall=scale(p.wall, (0.45, 0.42, 0.5)),
        light=mix(p.light, (190, 210, 255), 0.7),
        key_light=scale(p.key_light, (0.55, 0.6, 0.78)),
        lights_on=True,
    )


def _dusk(p: Palette) -> Palette:
    warm: RGB = (0.78, 0.62, 0.56)
    return replace(
        p,
        time="dusk",
        sky_top=mix(p.sky_top, (72, 52, 112), 0.6),
        sky_horizon=mix(p.sky_horizon, (255, 140, 72), 0.7),
        ground_far=scale(p.ground_far, warm),
        ground_near=scale(p.ground_near, warm),
        far=mix(scale(p.far, warm), (120, 70, 90), 0.3),
        near=scale(p.near, warm),
        wall=scale(p.wall, (0.9, 0.75, 0.65)),
        light=mix(p.light, (255, 150, 80), 0.75),
        key_light=scale(p.key_light, (1.0, 0.8, 0.66)),
        lights_on=True,
    )


def _dawn(p: Palette) -> Palette:
    soft: RGB = (0.92, 0.86, 0.86)
    return replace(
        p,
        time="dawn",
        sky_top=mix(p.sky_top, (122, 142, 204), 0.4),
        sky_horizon=mix(p.sky_horizon, (255, 192, 172), 0.5),
        ground_far=scale(p.ground_far, soft),
        ground_near=scale(p.ground_near, soft),
        far=mix(p.far, (180, 160, 190), 0.25),
        near=scale(p.near, soft),
        light=mix(p.light, (255, 212, 182), 0.6),
        key_light=scale(p.key_light, (1.0, 0.92, 0.9)),
    )


def palette_for(style: str, time: TimeOfDay = "day") -> Palette:
    """The style's palette, re-lit for the time of day."""
    base = style_palette(style)
    if time == "night":
        return _night(base)
    if time == "dusk":
        return _dusk(base)
    if time == "dawn":
        return _dawn(base)
    return base
