"""Props the screenplay names are drawn in the shot; the renderer reports where people are."""

from __future__ import annotations

import numpy as np

from storyreel_asset.procedural_renderer import render_frame_with_mask, shot_props
from storyreel_core.drama_models import Character, Shot

CAST = [
    Character(id="he", name="小禾", gender="female"),
    Character(id="zhou", name="周海", gender="male", description="白发老人，穿着长袍"),
]


def shot(narration: str, shot_type: str = "wide") -> Shot:
    return Shot(
        id="s1",
        number=1,
        scene_id="sc1",
        shot_type=shot_type,  # type: ignore[arg-type]
        narration=narration,
        character_ids=["he", "zhou"],
        location="渡口",
    )


def test_props_named_in_the_shot_are_found_in_order_and_never_from_parts_of_words() -> None:
    assert shot_props(shot("小禾提着灯笼，骑马赶到渡口，登上一艘小船。")) == ["lantern", "horse"]
    assert shot_props(shot("他马上相信了她。")) == []
    english = shot("Mary raised a lantern as the boat reached the pier.")
    assert shot_props(english) == ["lantern", "boat"]


def test_props_are_drawn_in_wide_and_close_shots() -> None:
    for shot_type in ("wide", "medium"):
        plain = render_frame_with_mask(
            shot("小禾站在渡口。", shot_type), CAST, style="古风", width=180, height=320
        )
        with_props = render_frame_with_mask(
            shot("小禾提着灯笼，骑马赶到渡口。", shot_type),
            CAST,
            style="古风",
            width=180,
            height=320,
        )
        a = np.asarray(plain.image, dtype=np.int16)
        b = np.asarray(with_props.image, dtype=np.int16)
        changed = np.abs(a - b).max(axis=2) > 40
        # A horse and a lantern: a visible patch of the frame, outside the figures' faces.
        assert changed.mean() > 0.01, shot_type
        for figure in with_props.figures:
            x0, y0, x1, y1 = figure.face
            face = changed[round(y0 * 320) : round(y1 * 320), round(x0 * 180) : round(x1 * 180)]
            assert face.mean() < 0.05


def test_figure_boxes_cover_the_drawn_figures() -> None:
    for shot_type in ("wide", "medium", "close_up"):
        render = render_frame_with_mask(
            shot("小禾看着周海。", shot_type), CAST, style="", width=360, height=640
        )
        assert render.figures and len(render.figures) == len(render.cast)
        mask = render.figure_mask
        inside = np.zeros_like(mask)
        for figure in render.figures:
            x0, y0, x1, y1 = figure.body
            inside[round(y0 * 640) : round(y1 * 640), round(x0 * 360) : round(x1 * 360)] = True
            fx0, fy0, fx1, fy1 = figure.face
            assert x0 <= fx0 <= fx1 <= x1 and y0 <= fy0 < fy1 <= y1
        # Nearly every figure pixel lies in some body box (the rim of a hand may stick out).
        assert (mask & ~inside).sum() <= 0.03 * mask.sum()
