"""The thumbnail shows the story's people and its title, not an empty establishing shot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from storyreel_core.drama_models import FigureBox
from storyreel_video.specs import ClipSpec
from storyreel_video.thumbnail import best_shot, save_thumbnail

W, H = 180, 320


def still(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (W, H), colour).save(path)
    return path


def figure(cid: str, x: float, size: float) -> FigureBox:
    return FigureBox(
        character_id=cid,
        face=(x - size / 2, 0.3, x + size / 2, 0.3 + size),
        body=(x - size, 0.3, x + size, 1.0),
    )


def test_the_thumbnail_is_the_shot_with_the_characters_titled(tmp_path: Path) -> None:
    empty = ClipSpec(still(tmp_path / "a.png", (40, 60, 90)), 3.0)
    one = ClipSpec(still(tmp_path / "b.png", (90, 60, 40)), 3.0, figures=[figure("a", 0.5, 0.1)])
    two = ClipSpec(
        still(tmp_path / "c.png", (60, 90, 40)),
        3.0,
        figures=[figure("a", 0.3, 0.08), figure("b", 0.7, 0.08)],
    )
    assert best_shot([empty, one, two]) == 2
    assert best_shot([empty, one]) == 1
    assert best_shot([empty]) == 0

    path = save_thumbnail([empty, one, two], W, H, tmp_path / "t.jpg", title="灯笼与小船")
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    background = np.array([60, 90, 40])
    top = np.abs(pixels[: H // 4] - background).max(axis=2) > 60
    bottom = np.abs(pixels[H // 2 :] - background).max(axis=2) > 60
    assert top.mean() > 0.01  # the title, in the upper part
    assert bottom.mean() < 0.001  # the picture below is the chosen shot, untouched
