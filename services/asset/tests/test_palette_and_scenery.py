"""Reading free-text style, time and location into palettes and scenery kinds."""

from __future__ import annotations

import pytest

from storyreel_asset.palette import palette_for, style_palette, time_of_day
from storyreel_asset.scenery import location_kind


@pytest.mark.parametrize(
    ("style", "name"),
    [
        ("赛博朋克", "cyberpunk"),
        ("Cyberpunk neon", "cyberpunk"),
        ("温馨治愈", "warm"),
        ("warm family", "warm"),
        ("noir", "noir"),
        ("水墨", "ink"),
        ("ink wash", "ink"),
        ("realistic", "realistic"),
        ("", "realistic"),
    ],
)
def test_style_keywords_pick_named_palettes(style: str, name: str) -> None:
    assert style_palette(style).style == name


def test_unknown_styles_hash_to_a_stable_palette() -> None:
    assert style_palette("vaporwave") == style_palette("  Vaporwave ")
    assert style_palette("vaporwave").sky_top != style_palette("pastel gouache").sky_top


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("day", "day"),
        ("", "day"),
        ("night", "night"),
        ("夜晚", "night"),
        ("傍晚", "dusk"),
        ("sunset", "dusk"),
        ("evening", "dusk"),
        ("清晨", "dawn"),
        ("early morning", "dawn"),
        ("中午", "day"),
    ],
)
def test_time_of_day_reads_chinese_and_english(text: str, expected: str) -> None:
    assert time_of_day(text) == expected


def test_night_palette_is_darker_and_lit() -> None:
    day = palette_for("realistic", "day")
    night = palette_for("realistic", "night")
    assert sum(night.sky_top) < sum(day.sky_top)
    assert night.lights_on and not day.lights_on


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        ("客厅", "room"),
        ("her office", "room"),
        ("Main Street", "street"),
        ("老街小巷", "street"),
        ("rooftop of the tower", "city"),
        ("城市天台", "city"),
        ("bamboo forest", "forest"),
        ("公园", "forest"),
        ("华山之巅", "mountain"),
        ("cliff edge", "mountain"),
        ("海边沙滩", "water"),
        ("by the lake", "water"),
        ("somewhere", "field"),
        ("research lab", "field"),  # "sea" inside a word is not the sea
    ],
)
def test_location_keywords_pick_scenery(location: str, kind: str) -> None:
    assert location_kind(location) == kind


def test_prompt_breaks_silence_when_location_is_vague() -> None:
    assert location_kind("somewhere", "a dark forest at night") == "forest"
    assert location_kind("客厅", "city skyline through the window") == "room"
