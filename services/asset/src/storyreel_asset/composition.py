"""Composition: where the horizon sits and how big people are, per storyboard shot type.

Shot types are the storyboard's camera language; the renderer has no camera, so each type is
translated into a few numbers (horizon height, figure size, scenery zoom) that produce the
framing a viewer expects: wide shots show the place, close-ups show a face.
"""

from __future__ import annotations

from dataclasses import dataclass

from storyreel_core.drama_models import FigureBox, ShotType


@dataclass(frozen=True)
class Layout:
    """Framing for one shot type; lengths are fractions of the frame height.

    `head_top` is where the principal's head starts, so large figures are positioned by their
    face (their feet may be far below the frame). `leg_scale` foreshortens legs: looking down
    shortens them, looking up lengthens them.
    """

    shot_type: ShotType
    horizon: float
    scenery_zoom: float
    scenery_stretch: float
    figure_height: float
    head_top: float
    max_figures: int
    spread: float
    leg_scale: float
    background_blur: float
    ground_lines: bool


_LAYOUTS: dict[ShotType, Layout] = {
    "extreme_wide": Layout("extreme_wide", 0.66, 0.72, 1.0, 0.085, 0.74, 6, 0.42, 1.0, 0.0, False),
    "wide": Layout("wide", 0.6, 0.9, 1.0, 0.24, 0.6, 5, 0.6, 1.0, 0.0, False),
    "medium": Layout("medium", 0.52, 1.15, 1.0, 1.72, 0.13, 3, 0.62, 1.0, 0.004, False),
    "medium_close_up": Layout(
        "medium_close_up", 0.5, 1.35, 1.0, 2.5, 0.12, 2, 0.7, 1.0, 0.007, False
    ),
    "close_up": Layout("close_up", 0.48, 1.6, 1.0, 3.5, 0.1, 1, 0.0, 1.0, 0.011, False),
    "high_angle": Layout("high_angle", 0.1, 0.8, 0.8, 0.2, 0.5, 5, 0.55, 0.72, 0.0, True),
    "low_angle": Layout("low_angle", 0.86, 1.0, 1.7, 0.82, 0.14, 3, 0.55, 1.18, 0.0, False),
}


def layout_for(shot_type: ShotType) -> Layout:
    """The framing for a shot type (unknown values cannot occur: ShotType is a closed set)."""
    return _LAYOUTS[shot_type]


@dataclass(frozen=True)
class Placement:
    """Where one figure stands in working-resolution pixels."""

    index: int
    centre_x: float
    head_top_y: float
    height_px: float


def figure_height_px(layout: Layout, width: int, height: int) -> float:
    """Nominal figure height, capped so a close-up face still fits a very narrow frame."""
    nominal = layout.figure_height * height
    # A head is about 0.11 of a figure's height wide; keep it within 80% of the frame width.
    return min(nominal, 0.8 * width / 0.11)


def place_figures(layout: Layout, heights: list[float], width: int, height: int) -> list[Placement]:
    """Spread figures across the frame; the principal (index 0) stands front and centre.

    Secondary figures are a little smaller and drawn first, so they read as standing behind.
    `heights` are each character's relative body height (their look), which moves the head but
    keeps feet on a shared ground line.
    """
    count = len(heights)
    if count == 0:
        return []
    base = figure_height_px(layout, width, height)
    feet_y = layout.head_top * height + base
    placements: list[Placement] = []
    for index, relative in enumerate(heights):
        if count == 1:
            offset = 0.0
        else:
            # Principal near the middle, others alternating to its right and left.
            slot = (index + 1) // 2 * (1 if index % 2 else -1)
            offset = slot * layout.spread / max(1, count - 1)
            if count == 2:
                offset = (0.5 if index == 0 else -0.5) * layout.spread
        depth = 1.0 if index == 0 else 1.0 - 0.07 * min(index, 3)
        figure_px = base * relative * depth
        feet = feet_y - (1.0 - depth) * base * 0.08
        placements.append(
            Placement(
                index=index,
                centre_x=width * (0.5 + offset),
                head_top_y=feet - figure_px,
                height_px=figure_px,
            )
        )
    return placements


# Body extents in figure heights (see figure.py): the head ellipse spans v 0.003..0.147 around
# x ±0.054 (ears to ±0.064, hair a little wider and higher); shoulders, arms and hands stay
# within ±0.2; the soles are at `_HIP_Y + (1 − _HIP_Y) · leg_scale`.
_FACE_HALF_WIDTH = 0.075
_FACE_TOP = -0.03
_FACE_BOTTOM = 0.17  # chin plus a little neck: text below this line clears the chin
_BODY_HALF_WIDTH = 0.2
_HIP_Y = 0.52


def _clip_box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    return (
        min(1.0, max(0.0, x0)),
        min(1.0, max(0.0, y0)),
        min(1.0, max(0.0, x1)),
        min(1.0, max(0.0, y1)),
    )


def figure_boxes(
    placements: list[Placement], ids: list[str], layout: Layout, width: int, height: int
) -> tuple[FigureBox, ...]:
    """The face and body box of each placed figure, as fractions of a `width` x `height` frame.

    Figures wholly outside the frame are left out; a face cut by the frame edge keeps the
    part inside. Order follows `placements` (principal first).
    """
    boxes: list[FigureBox] = []
    for place, character_id in zip(placements, ids, strict=True):
        size, cx, top = place.height_px, place.centre_x, place.head_top_y
        feet = top + size * (_HIP_Y + (1.0 - _HIP_Y) * layout.leg_scale)
        body = _clip_box(
            (cx - _BODY_HALF_WIDTH * size) / width,
            (top + _FACE_TOP * size) / height,
            (cx + _BODY_HALF_WIDTH * size) / width,
            feet / height,
        )
        face = _clip_box(
            (cx - _FACE_HALF_WIDTH * size) / width,
            (top + _FACE_TOP * size) / height,
            (cx + _FACE_HALF_WIDTH * size) / width,
            (top + _FACE_BOTTOM * size) / height,
        )
        if body[2] <= body[0] or body[3] <= body[1]:
            continue
        boxes.append(FigureBox(character_id=character_id, face=face, body=body))
    return tuple(boxes)
