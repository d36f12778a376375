"""A character sheet is a turnaround: the same character seen from the front, the side and
the back, in three panels, with one palette and one size."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from storyreel_asset.character_look import character_look
from storyreel_asset.figure import VIEWS, View, draw_figure
from storyreel_asset.palette import palette_for, scale
from storyreel_asset.procedural_renderer import render_character_sheet
from storyreel_core.drama_models import Character

EYE = (34, 30, 34)  # the figure's eye colour under neutral light
SIZE = 400  # figure height in pixels, head top at 20
CAST = [
    Character(id=f"turn-{i}", name=f"Person {i}", gender="female" if i % 2 else "male")
    for i in range(14)
] + [
    Character(id="zhou", name="周海", gender="male", description="白发老人，穿着长袍，戴着眼镜"),
    Character(id="tom", name="Tom", gender="male", description="a man in a grey suit, a hat"),
]


def layer(character: Character, view: View) -> npt.NDArray[np.uint8]:
    """One view drawn alone on a transparent layer, neutral light: exact colours."""
    image = Image.new("RGBA", (240, 460), (0, 0, 0, 0))
    look = character_look(character)
    draw_figure(ImageDraw.Draw(image), look, centre_x=120, head_top=20, size=SIZE, view=view)
    return np.asarray(image)


def row_width(pixels: npt.NDArray[np.uint8], v: float) -> int:
    """Opaque pixels across the figure at body height `v` (figure heights from the head top)."""
    return int((pixels[round(20 + v * SIZE), :, 3] > 0).sum())


def count(pixels: npt.NDArray[np.uint8], colour: tuple[int, int, int], rows: slice) -> int:
    region = pixels[rows]
    return int(((region[..., :3] == colour).all(axis=-1) & (region[..., 3] > 0)).sum())


def test_front_side_and_back_are_the_same_person_turned() -> None:
    head = slice(20, round(20 + 0.15 * SIZE))
    for character in CAST:
        look = character_look(character)
        front, side, back = (layer(character, view) for view in VIEWS)
        # Face features: eyes in front (two) and in profile (one), none from behind.
        front_eyes, side_eyes = count(front, EYE, head), count(side, EYE, head)
        assert front_eyes > 0 and 0 < side_eyes < front_eyes, character.id
        assert count(back, EYE, head) == 0, character.id
        # From behind the hair covers the head: little skin shows above the neck.
        skin = tuple(round(c) for c in look.skin)
        assert count(back, skin, head) < count(front, skin, head) / 3, character.id  # type: ignore[arg-type]
        # Side-on the body is its depth wide: narrower across the chest and the hips.
        for v in (0.3, 0.45):
            assert row_width(side, v) < 0.75 * row_width(front, v), (character.id, v)
        assert abs(row_width(back, 0.3) - row_width(front, 0.3)) <= 2, character.id
        # Same height: the soles are on the same row in every view.
        soles = [int(np.nonzero(p[..., 3].any(axis=1))[0].max()) for p in (front, side, back)]
        assert max(soles) - min(soles) <= 1, (character.id, soles)
        # Same clothes: the trousers' colour shows in all three views.
        trousers = tuple(round(c) for c in look.bottom_colour)
        legs = slice(round(20 + 0.9 * SIZE), round(20 + 0.94 * SIZE))
        for pixels in (front, back):
            assert count(pixels, trousers, legs) > 0, character.id  # type: ignore[arg-type]


def test_the_sheet_shows_three_panels_in_one_palette_and_is_deterministic() -> None:
    tom = CAST[-1]
    sheet = render_character_sheet(tom, style="realistic", width=768, height=512)
    assert sheet.size == (768, 512)
    pixels = np.asarray(sheet, dtype=np.float64)
    panels = [pixels[:, i * 256 : (i + 1) * 256] for i in range(3)]
    look = character_look(tom)
    lit = np.asarray(scale(look.top_colour, palette_for("realistic", "day").key_light))
    near = [int((np.linalg.norm(p - lit, axis=-1) < 22).sum()) for p in panels]
    # The jacket in each panel, as large front and back, narrower side-on.
    assert min(near) > 800, near
    assert near[1] < 0.8 * min(near[0], near[2]), near
    # Evenly spaced: each panel's figure is centred in it.
    backdrop = np.median(pixels[:, :20], axis=(0, 1))
    for i, panel in enumerate(panels):
        columns = np.nonzero((np.linalg.norm(panel - lit, axis=-1) < 22).any(axis=0))[0]
        centre = (columns.min() + columns.max()) / 2
        assert abs(centre - 128) < 24, (i, centre)
    assert np.linalg.norm(backdrop - lit) > 40  # a plain backdrop unlike the clothes
    # The three panels differ from one another.
    assert all(np.abs(panels[a] - panels[b]).mean() > 2 for a, b in ((0, 1), (0, 2), (1, 2)))
    again = render_character_sheet(tom, style="realistic", width=768, height=512)
    assert again.tobytes() == sheet.tobytes()
    other = render_character_sheet(CAST[0], style="realistic", width=768, height=512)
    assert other.tobytes() != sheet.tobytes()
