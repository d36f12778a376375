"""Character looks: a person's fixed appearance, derived only from who they are.

Frames are rendered independently (often in parallel, across processes), so a character's
hair, clothes and build cannot be remembered between shots; instead they are recomputed from a
SHA-256 of the character's id and name (plus gender for plausible defaults). The same character
therefore looks the same in every shot and every run, and the description text (which may be
rewritten between stages) cannot change them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from storyreel_asset.palette import RGB, hsv
from storyreel_asset.stable_hash import stable_digest
from storyreel_core.drama_models import Character, Gender

HairStyle = Literal["short", "spiky", "buzz", "long", "bob", "ponytail", "bun"]
Outfit = Literal["coat", "suit", "hoodie", "dress", "robe"]
Accessory = Literal["none", "hat", "glasses", "scarf", "earrings", "headband", "satchel"]


@dataclass(frozen=True)
class CharacterLook:
    """Everything needed to draw one character; colours are RGB floats in 0..255.

    `height` is relative body height (about 0.9..1.07) and `build` the shoulder-width factor.
    """

    character_id: str
    skin: RGB
    hair_colour: RGB
    hair_style: HairStyle
    outfit: Outfit
    top_colour: RGB
    bottom_colour: RGB
    accent_colour: RGB
    accessory: Accessory
    height: float
    build: float


_SKINS: tuple[RGB, ...] = (
    (247, 214, 190),
    (240, 200, 170),
    (228, 184, 150),
    (206, 156, 118),
    (176, 124, 90),
    (132, 90, 64),
)
# Mostly natural shades, with a few stylised ones so casts stay distinguishable.
_HAIRS: tuple[RGB, ...] = (
    (22, 20, 24),
    (34, 26, 22),
    (58, 38, 26),
    (96, 60, 36),
    (138, 84, 44),
    (196, 156, 96),
    (168, 168, 176),
    (40, 48, 96),
    (150, 50, 70),
    (214, 120, 150),
)
_HAIR_STYLES: dict[Gender, tuple[HairStyle, ...]] = {
    "male": ("short", "spiky", "buzz", "short", "bob", "ponytail"),
    "female": ("long", "bob", "ponytail", "bun", "long", "short"),
    "unknown": ("short", "spiky", "buzz", "long", "bob", "ponytail", "bun"),
}
_OUTFITS: dict[Gender, tuple[Outfit, ...]] = {
    "male": ("coat", "suit", "hoodie", "robe", "suit"),
    "female": ("dress", "coat", "suit", "robe", "hoodie", "dress"),
    "unknown": ("coat", "suit", "hoodie", "dress", "robe"),
}
_ACCESSORIES: tuple[Accessory, ...] = (
    "none",
    "hat",
    "glasses",
    "scarf",
    "earrings",
    "headband",
    "satchel",
)
_HEIGHTS: dict[Gender, tuple[float, float]] = {
    "male": (0.97, 1.07),
    "female": (0.9, 0.99),
    "unknown": (0.92, 1.05),
}
_BUILDS: dict[Gender, tuple[float, float]] = {
    "male": (0.95, 1.22),
    "female": (0.82, 1.0),
    "unknown": (0.85, 1.15),
}


def _between(byte: int, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return low + (high - low) * byte / 255.0


def character_look(character: Character) -> CharacterLook:
    """The character's look, a pure function of id, name and gender.

    Each attribute reads its own bytes of the digest, so two characters differing anywhere in
    id or name differ independently in hue, value, hair and accessory; clothing hue spans the
    whole colour wheel, and its brightness varies too, so look-alikes are rare.
    """
    d = stable_digest("character-look", character.id, character.name)
    gender = character.gender
    top_hue = d[0] / 256.0
    top_value = 0.4 + 0.5 * d[1] / 255.0
    top = hsv(top_hue, 0.45 + 0.45 * d[2] / 255.0, top_value)
    # Trousers/skirt sit near the opposite value of the top so the two read as separate shapes.
    bottom_value = 0.22 + 0.3 * d[3] / 255.0 if top_value > 0.6 else 0.55 + 0.3 * d[3] / 255.0
    bottom_hue = top_hue + 0.5 + 0.3 * (d[4] / 255.0 - 0.5)
    bottom = hsv(bottom_hue, 0.15 + 0.35 * d[5] / 255.0, bottom_value)
    accent = hsv(top_hue + 0.25 + 0.5 * d[6] / 255.0, 0.75, 0.9)
    styles = _HAIR_STYLES[gender]
    outfits = _OUTFITS[gender]
    return CharacterLook(
        character_id=character.id,
        skin=_SKINS[d[7] % len(_SKINS)],
        hair_colour=_HAIRS[d[8] % len(_HAIRS)],
        hair_style=styles[d[9] % len(styles)],
        outfit=outfits[d[10] % len(outfits)],
        top_colour=top,
        bottom_colour=bottom,
        accent_colour=accent,
        accessory=_ACCESSORIES[d[11] % len(_ACCESSORIES)],
        height=_between(d[12], _HEIGHTS[gender]),
        build=_between(d[13], _BUILDS[gender]),
    )
