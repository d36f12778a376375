"""A character looks the same in every shot, run and sheet, and unlike other characters."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numpy as np
from PIL import Image

from storyreel_asset.character_look import CharacterLook, character_look
from storyreel_asset.palette import RGB, palette_for, scale
from storyreel_asset.procedural_renderer import (
    render_character_sheet,
    render_frame,
    render_frame_with_mask,
)
from storyreel_core.drama_models import Character, Shot, ShotType

LIN = Character(id="char-lin", name="林夏", gender="female", description="a nurse")
CHEN = Character(id="char-chen", name="陈默", gender="male")


def shot(shot_type: ShotType, shot_id: str, ids: list[str], location: str = "street") -> Shot:
    return Shot(
        id=shot_id,
        number=1,
        scene_id=f"scene-{shot_id}",
        shot_type=shot_type,
        location=location,
        character_ids=ids,
    )


def colour_distance(a: RGB, b: RGB) -> float:
    return float(np.linalg.norm(np.subtract(a, b)))


def pixels_near(image: Image.Image, colour: RGB, tolerance: float = 22.0) -> int:
    values = np.asarray(image, dtype=np.float64)
    distance = np.linalg.norm(values - np.asarray(colour), axis=-1)
    return int((distance < tolerance).sum())


def lit_top(look: CharacterLook, style: str = "realistic") -> RGB:
    """The clothing colour as it appears under the style's daylight key."""
    return scale(look.top_colour, palette_for(style, "day").key_light)


def test_look_is_identical_for_the_same_character_even_if_description_changes() -> None:
    """Rewording a description changes nothing unless it describes appearance."""
    rewritten = LIN.model_copy(update={"description": "now a doctor at the city hospital"})
    assert character_look(LIN) == character_look(rewritten)
    assert character_look(LIN) == character_look(
        Character(id="char-lin", name="林夏", gender="female")
    )


def test_look_is_stable_across_processes() -> None:
    """Derived from SHA-256, not the per-process salted hash(), so runs agree."""
    code = (
        "from storyreel_core.drama_models import Character;"
        "from storyreel_asset.character_look import character_look;"
        "print(repr(character_look(Character(id='char-lin', name='林夏', gender='female'))))"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        outputs.add(result.stdout.strip())
    assert outputs == {repr(character_look(LIN))}


def test_different_characters_look_clearly_different() -> None:
    cast = [
        Character(id=f"char-{i}", name=name, gender=gender)
        for i, (name, gender) in enumerate(
            [
                ("林夏", "female"),
                ("陈默", "male"),
                ("Alice", "female"),
                ("Bob", "male"),
                ("王芳", "female"),
                ("李雷", "male"),
                ("Sam", "unknown"),
                ("韩梅梅", "female"),
            ]
        )
    ]
    looks = [character_look(c) for c in cast]
    fields = ("hair_colour", "hair_style", "outfit", "top_colour", "accessory")
    for a, b in itertools.combinations(looks, 2):
        assert a != b
        differing = sum(getattr(a, f) != getattr(b, f) for f in fields)
        assert differing >= 2, (a, b)
    distances = [
        colour_distance(a.top_colour, b.top_colour) for a, b in itertools.combinations(looks, 2)
    ]
    assert float(np.median(distances)) > 80


def test_gender_shapes_the_default_look() -> None:
    women = [
        character_look(Character(id=f"w{i}", name=f"W{i}", gender="female")) for i in range(40)
    ]
    men = [character_look(Character(id=f"m{i}", name=f"M{i}", gender="male")) for i in range(40)]
    assert np.mean([w.height for w in women]) < np.mean([m.height for m in men])
    assert np.mean([w.build for w in women]) < np.mean([m.build for m in men])
    assert not any(m.outfit == "dress" for m in men)
    assert any(w.outfit == "dress" for w in women)


def test_clothing_colour_appears_in_every_shot_of_the_character() -> None:
    lin_top = lit_top(character_look(LIN))
    chen_top = lit_top(character_look(CHEN))
    assert colour_distance(lin_top, chen_top) > 60  # precondition: distinct clothes

    kwargs = {"style": "realistic", "width": 360, "height": 640}
    medium = render_frame(shot("medium", "a", [LIN.id]), [LIN, CHEN], **kwargs)
    close = render_frame(shot("close_up", "b", [LIN.id], location="客厅"), [LIN, CHEN], **kwargs)
    chen_only = render_frame(shot("medium", "c", [CHEN.id]), [LIN, CHEN], **kwargs)

    assert pixels_near(medium, lin_top) > 2000
    assert pixels_near(close, lin_top) > 2000
    assert pixels_near(chen_only, chen_top) > 2000
    assert pixels_near(chen_only, lin_top) < pixels_near(medium, lin_top) / 10


def test_character_occupies_the_same_colours_inside_its_mask_in_two_shots() -> None:
    """The dominant figure colours (clothes, skin, hair) match between a wide and a medium."""

    def figure_palette(shot_type: ShotType, shot_id: str) -> set[tuple[int, int, int]]:
        render = render_frame_with_mask(
            shot(shot_type, shot_id, [CHEN.id]), [CHEN], style="anime", width=360, height=640
        )
        values = np.asarray(render.image, dtype=np.int64)[render.figure_mask]
        quantised = [tuple(int(c) for c in v) for v in (values // 32)]
        counts: dict[tuple[int, int, int], int] = {}
        for q in quantised:
            counts[q] = counts.get(q, 0) + 1
        return {colour for colour, n in counts.items() if n > len(quantised) * 0.08}

    wide = figure_palette("wide", "w")
    medium = figure_palette("medium", "m")
    assert wide & medium


def test_character_sheet_matches_the_frames() -> None:
    sheet = render_character_sheet(LIN, style="realistic", width=576, height=384)
    assert sheet.size == (576, 384)
    assert sheet.mode == "RGB"
    assert pixels_near(sheet, lit_top(character_look(LIN))) > 1000
    again = render_character_sheet(LIN, style="realistic", width=576, height=384)
    assert sheet.tobytes() == again.tobytes()
    other = render_character_sheet(CHEN, style="realistic", width=576, height=384)
    assert sheet.tobytes() != other.tobytes()


def test_character_sheet_is_a_plain_backdrop_around_the_figure() -> None:
    sheet = np.asarray(
        render_character_sheet(CHEN, style="温馨", width=600, height=400), dtype=np.float64
    )
    # Corners are backdrop only: no scenery edges, just a soft gradient and grain.
    corner = sheet[:60, :60]
    assert np.abs(np.diff(corner, axis=1)).mean() < 6
    assert np.abs(np.diff(corner, axis=0)).mean() < 6
    assert sheet.reshape(-1, 3).std(axis=0).max() > 15


def test_a_man_is_drawn_as_described_and_never_in_a_dress_or_earrings() -> None:
    for i in range(60):
        look = character_look(Character(id=f"m{i}", name=f"男{i}", gender="male"))
        assert look.outfit != "dress" and look.accessory != "earrings"
        assert look.hair_style not in ("bun", "long", "bob")
    elder = Character(
        id="zhou", name="周海", gender="male", description="白发老人，穿着长袍，戴着眼镜"
    )
    look = character_look(elder)
    assert (look.hair_colour, look.outfit, look.accessory) == ((200, 200, 204), "robe", "glasses")
    english = Character(
        id="tom", name="Tom", gender="male", description="a tall man in a grey suit with a hat"
    )
    assert (character_look(english).outfit, character_look(english).accessory) == ("suit", "hat")
