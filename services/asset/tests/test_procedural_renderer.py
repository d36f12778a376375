"""Behaviour of the procedural frame renderer: size, determinism, framing, style and light."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from storyreel_asset.procedural_renderer import (
    render_frame,
    render_frame_with_mask,
)
from storyreel_core.drama_models import Character, DialogueLine, Shot, ShotType

CAST = [
    Character(id="char-lin", name="林夏", gender="female"),
    Character(id="char-chen", name="陈默", gender="male"),
    Character(id="char-wang", name="Old Wang", gender="male"),
]


def make_shot(
    shot_type: ShotType = "medium",
    *,
    shot_id: str = "shot-1",
    scene_id: str = "scene-1",
    location: str = "city rooftop",
    time: str = "day",
    character_ids: list[str] | None = None,
) -> Shot:
    return Shot(
        id=shot_id,
        number=1,
        scene_id=scene_id,
        shot_type=shot_type,
        location=location,
        time=time,
        character_ids=["char-lin", "char-chen"] if character_ids is None else character_ids,
    )


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float64)


def luminance(image: Image.Image) -> float:
    return float(np.asarray(image.convert("L"), dtype=np.float64).mean())


@pytest.mark.parametrize(
    ("width", "height"),
    [(720, 1280), (1280, 720), (64, 64), (333, 777), (4096, 64), (64, 4096)],
)
def test_frame_has_exactly_the_requested_size_and_is_rgb(width: int, height: int) -> None:
    image = render_frame(make_shot(), CAST, style="cyberpunk", width=width, height=height)
    assert image.size == (width, height)
    assert image.mode == "RGB"


@pytest.mark.parametrize(("width", "height"), [(63, 720), (720, 4097), (0, 0)])
def test_sizes_outside_the_supported_range_are_rejected(width: int, height: int) -> None:
    with pytest.raises(ValueError):
        render_frame(make_shot(), CAST, style="", width=width, height=height)


def test_same_inputs_give_byte_identical_frames() -> None:
    shot = make_shot("wide", location="霓虹街道", time="night")
    first = render_frame(shot, CAST, style="赛博朋克", width=360, height=640, seed=3)
    second = render_frame(shot, CAST, style="赛博朋克", width=360, height=640, seed=3)
    assert first.tobytes() == second.tobytes()


def test_seed_changes_the_frame() -> None:
    shot = make_shot("wide")
    first = render_frame(shot, CAST, style="realistic", width=360, height=640, seed=1)
    second = render_frame(shot, CAST, style="realistic", width=360, height=640, seed=2)
    assert first.tobytes() != second.tobytes()


def test_shots_of_one_scene_share_their_scenery() -> None:
    """Two shots of the same scene differ only in grain and light; another scene differs."""
    kwargs = {"style": "realistic", "width": 360, "height": 640}
    a = render_frame(make_shot("wide", shot_id="a", character_ids=[]), CAST, **kwargs)
    b = render_frame(make_shot("wide", shot_id="b", character_ids=[]), CAST, **kwargs)
    other = render_frame(
        make_shot("wide", shot_id="c", scene_id="scene-2", character_ids=[]), CAST, **kwargs
    )
    same_scene = np.abs(pixels(a) - pixels(b)).mean()
    other_scene = np.abs(pixels(a) - pixels(other)).mean()
    assert same_scene < other_scene / 2


@pytest.mark.parametrize("style", ["cyberpunk", "温馨", "noir", "水墨", "realistic", "lofi"])
@pytest.mark.parametrize("shot_type", ["wide", "close_up", "high_angle"])
def test_frames_are_textured_not_flat(style: str, shot_type: ShotType) -> None:
    image = render_frame(make_shot(shot_type), CAST, style=style, width=360, height=640)
    values = pixels(image)
    assert values.std() > 12.0
    # Even a small patch varies (grain, clouds), so pans and zooms have something to move over.
    assert values[20:60, 20:60].std() > 1.5


def test_close_up_fills_more_of_the_frame_with_figures_than_wide_shots() -> None:
    def coverage(shot_type: ShotType, ids: list[str]) -> float:
        shot = make_shot(shot_type, character_ids=ids)
        return render_frame_with_mask(
            shot, CAST, style="realistic", width=360, height=640
        ).figure_coverage

    solo = {
        shot_type: coverage(shot_type, ["char-lin"])
        for shot_type in ("close_up", "medium_close_up", "medium", "wide", "extreme_wide")
    }
    assert solo["close_up"] > 0.4
    assert (
        solo["close_up"]
        > solo["medium_close_up"]
        > solo["medium"]
        > solo["wide"]
        > solo["extreme_wide"]
        > 0.0
    )
    assert coverage("close_up", ["char-lin", "char-chen"]) > 4 * coverage(
        "wide", ["char-lin", "char-chen"]
    )


def test_camera_angles_change_figure_size_and_horizon() -> None:
    high = render_frame_with_mask(make_shot("high_angle"), CAST, style="", width=360, height=640)
    low = render_frame_with_mask(make_shot("low_angle"), CAST, style="", width=360, height=640)
    # Looking down: small figures, horizon near the top; looking up: tall figures, low horizon.
    assert low.figure_coverage > 2 * high.figure_coverage
    assert high.layout.horizon < 0.3 < 0.7 < low.layout.horizon

    def figure_height(mask: np.ndarray) -> int:
        rows = np.flatnonzero(mask.any(axis=1))
        return int(rows[-1] - rows[0])

    assert figure_height(low.figure_mask) > 2 * figure_height(high.figure_mask)


def test_close_up_frames_the_speaker() -> None:
    shot = make_shot("close_up", character_ids=["char-lin", "char-chen"]).model_copy(
        update={"dialogue": [DialogueLine(character_id="char-chen", text="走吧")]}
    )
    render = render_frame_with_mask(shot, CAST, style="", width=360, height=640)
    assert render.cast == ("char-chen",)


def test_unknown_character_ids_still_get_a_figure() -> None:
    shot = make_shot("medium", character_ids=["not-in-cast"])
    render = render_frame_with_mask(shot, CAST, style="", width=360, height=640)
    assert render.cast == ("not-in-cast",)
    assert render.figure_coverage > 0.05


def test_a_shot_without_characters_has_no_figures() -> None:
    render = render_frame_with_mask(
        make_shot("medium", character_ids=[]), CAST, style="", width=360, height=640
    )
    assert render.figure_coverage == 0.0


def test_figure_mask_matches_the_frame_size() -> None:
    render = render_frame_with_mask(make_shot("wide"), CAST, style="", width=500, height=900)
    assert render.figure_mask.shape == (900, 500)
    assert render.figure_mask.dtype == np.bool_


def test_cyberpunk_and_warm_styles_have_different_palettes() -> None:
    shot = make_shot("wide", time="day")
    cyber = render_frame(shot, CAST, style="赛博朋克", width=360, height=640)
    warm = render_frame(shot, CAST, style="温馨", width=360, height=640)
    cyber_rgb = pixels(cyber).reshape(-1, 3).mean(axis=0)
    warm_rgb = pixels(warm).reshape(-1, 3).mean(axis=0)
    # Warm: bright, red over blue. Cyberpunk: dark, blue/magenta over green.
    assert luminance(warm) > luminance(cyber) + 40
    assert warm_rgb[0] > warm_rgb[2] + 30
    assert cyber_rgb[2] > cyber_rgb[1]
    warm_hue = np.asarray(warm.convert("HSV"), dtype=np.float64)[..., 0]
    cyber_hue = np.asarray(cyber.convert("HSV"), dtype=np.float64)[..., 0]
    assert np.median(warm_hue) < 40  # reds/oranges (PIL hue 0..255)
    assert np.median(cyber_hue) > 150  # blues/violets/magentas


def test_noir_and_ink_are_monochrome() -> None:
    shot = make_shot("wide")
    for style in ("noir", "水墨"):
        hsv = np.asarray(
            render_frame(shot, CAST, style=style, width=360, height=640).convert("HSV"),
            dtype=np.float64,
        )
        assert hsv[..., 1].mean() < 40, style


def test_unknown_styles_get_a_repeatable_palette_of_their_own() -> None:
    shot = make_shot("wide")
    a = render_frame(shot, CAST, style="vaporwave dreams", width=200, height=356)
    again = render_frame(shot, CAST, style="vaporwave dreams", width=200, height=356)
    b = render_frame(shot, CAST, style="pastel gouache", width=200, height=356)
    assert a.tobytes() == again.tobytes()
    mean_a = pixels(a).reshape(-1, 3).mean(axis=0)
    mean_b = pixels(b).reshape(-1, 3).mean(axis=0)
    assert np.abs(mean_a - mean_b).max() > 10


@pytest.mark.parametrize("style", ["cyberpunk", "温馨", "noir", "水墨", "realistic", "lofi"])
def test_night_is_darker_than_day(style: str) -> None:
    day = render_frame(make_shot("wide", time="day"), CAST, style=style, width=360, height=640)
    night = render_frame(make_shot("wide", time="夜晚"), CAST, style=style, width=360, height=640)
    assert luminance(night) < luminance(day) * 0.8


def test_night_is_bluer_and_dusk_is_warmer_than_day() -> None:
    def mean_rgb(time: str) -> np.ndarray:
        image = render_frame(
            make_shot("wide", time=time), CAST, style="realistic", width=360, height=640
        )
        return pixels(image).reshape(-1, 3).mean(axis=0)

    day, night, dusk = mean_rgb("day"), mean_rgb("night"), mean_rgb("黄昏")
    assert night[2] / night[0] > day[2] / day[0]
    assert dusk[0] / dusk[2] > day[0] / day[2]


@pytest.mark.parametrize(
    "location",
    ["霓虹城市", "rainy street", "客厅", "bamboo forest", "山间小路", "海边", "open meadow"],
)
def test_locations_render_different_scenery(location: str) -> None:
    base = render_frame(
        make_shot("wide", location="open meadow", character_ids=[]),
        [],
        style="",
        width=200,
        height=356,
    )
    image = render_frame(
        make_shot("wide", location=location, character_ids=[]),
        [],
        style="",
        width=200,
        height=356,
    )
    difference = np.abs(pixels(image) - pixels(base)).mean()
    if location == "open meadow":
        assert difference == 0.0
    else:
        assert difference > 5.0


def test_a_vertical_720p_frame_renders_quickly() -> None:
    """Guards against per-pixel Python creeping in; typical is ~60 ms, the bound is generous
    for slow, shared CI machines."""
    shot = make_shot("medium", location="霓虹街道", time="night")
    render_frame(shot, CAST, style="赛博朋克", width=720, height=1280)  # warm caches
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        render_frame(shot, CAST, style="赛博朋克", width=720, height=1280)
        timings.append(time.perf_counter() - started)
    assert sorted(timings)[1] < 0.5
