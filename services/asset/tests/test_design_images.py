"""Prop and location design images."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pytest

from storyreel_asset.procedural_renderer import render_design


@pytest.mark.parametrize("kind", ["prop", "scene"])
@pytest.mark.parametrize(("width", "height"), [(512, 512), (720, 1280), (64, 200)])
def test_design_has_the_requested_size(
    kind: Literal["prop", "scene"], width: int, height: int
) -> None:
    image = render_design(kind, "青锋剑", "a jade sword", style="水墨", width=width, height=height)
    assert image.size == (width, height)
    assert image.mode == "RGB"


def test_designs_are_deterministic_and_textured() -> None:
    first = render_design(
        "scene", "城市天台", "night rooftop", style="赛博朋克", width=360, height=640
    )
    second = render_design(
        "scene", "城市天台", "night rooftop", style="赛博朋克", width=360, height=640
    )
    assert first.tobytes() == second.tobytes()
    assert np.asarray(first, dtype=np.float64).std() > 15


def test_prop_is_a_centred_object() -> None:
    image = np.asarray(
        render_design("prop", "Grandma's teacup", "", style="warm", width=400, height=400),
        dtype=np.float64,
    )
    centre = image[150:250, 150:250].reshape(-1, 3).mean(axis=0)
    corner = image[:60, :60].reshape(-1, 3).mean(axis=0)
    assert np.abs(centre - corner).max() > 25


def test_different_props_get_different_shapes() -> None:
    sword = render_design("prop", "sword", "", style="", width=256, height=256)
    book = render_design("prop", "diary", "", style="", width=256, height=256)
    assert np.abs(np.asarray(sword, float) - np.asarray(book, float)).mean() > 3


def test_scene_design_shows_the_location_kind() -> None:
    forest = render_design("scene", "竹林", "", style="realistic", width=200, height=356)
    sea = render_design("scene", "海边", "", style="realistic", width=200, height=356)
    assert np.abs(np.asarray(forest, float) - np.asarray(sea, float)).mean() > 5
