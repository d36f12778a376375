"""Character looks: a person's fixed appearance, derived only from who they are.

Frames are rendered independently (often in parallel, across processes), so a character's
hair, clothes and build cannot be remembered between shots; instead they are recomputed from a
SHA-256 of the character's id and name (plus gender for plausible defaults). The same character
therefore looks the same in every shot and every run. Only what the description says about
appearance is drawn as said (白发/grey hair, 长袍/a robe, 眼镜/glasses, …): rewording the rest of
a description (a job, a mood) changes nothing, and a man is never given a dress, earrings or a
bun unless his description asks for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

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
    "male": ("short", "spiky", "buzz", "short", "spiky", "ponytail"),
    "female": ("long", "bob", "ponytail", "bun", "long", "short"),
    "unknown": ("short", "spiky", "buzz", "long", "bob", "ponytail", "bun"),
}
_OUTFITS: dict[Gender, tuple[Outfit, ...]] = {
    "male": ("coat", "suit", "hoodie", "robe", "suit"),  # never a dress unless described
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


_T = TypeVar("_T")

_MALE_ACCESSORIES: tuple[Accessory, ...] = ("none", "hat", "glasses", "scarf", "satchel")

# Appearance words of a description, Chinese and English, and what they set. The first match
# in each group wins; anything not said keeps the hashed default.
_DESCRIBED_HAIR: tuple[tuple[tuple[str, ...], RGB], ...] = (
    (
        ("白发", "银发", "花白", "白头", "grey hair", "gray hair", "white hair", "silver hair"),
        (200, 200, 204),
    ),
    (("金发", "blond", "golden hair"), (214, 178, 96)),
    (("红发", "red hair", "redhead", "ginger"), (160, 60, 36)),
    (("黑发", "black hair"), (22, 20, 24)),
    (("棕发", "brown hair"), (96, 60, 36)),
)
_DESCRIBED_STYLE: tuple[tuple[tuple[str, ...], HairStyle], ...] = (
    (("光头", "寸头", "shaved", "bald", "buzz cut", "crew cut"), "buzz"),
    (("马尾", "ponytail"), "ponytail"),
    (("发髻", "盘发", "bun"), "bun"),
    (("长发", "long hair"), "long"),
    (("短发", "short hair"), "short"),
)
_DESCRIBED_OUTFIT: tuple[tuple[tuple[str, ...], Outfit], ...] = (
    (("长袍", "道袍", "长衫", "袈裟", "robe", "gown"), "robe"),
    (("西装", "suit"), "suit"),
    (("卫衣", "连帽", "hoodie"), "hoodie"),
    (("裙", "dress", "skirt"), "dress"),
    (("大衣", "外套", "风衣", "coat", "jacket"), "coat"),
)
_DESCRIBED_ACCESSORY: tuple[tuple[tuple[str, ...], Accessory], ...] = (
    (("眼镜", "glasses", "spectacles"), "glasses"),
    (("帽", "斗笠", "hat", "cap"), "hat"),
    (("围巾", "scarf"), "scarf"),
    (("耳环", "earring"), "earrings"),
    (("发带", "headband"), "headband"),
    (("挎包", "书包", "satchel", "bag"), "satchel"),
)


def _described(text: str, table: tuple[tuple[tuple[str, ...], _T], ...]) -> _T | None:
    lowered = text.lower()
    for words, value in table:
        if any(word in lowered for word in words):
            return value
    return None


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
    accessories = _MALE_ACCESSORIES if gender == "male" else _ACCESSORIES
    said = character.description
    return CharacterLook(
        character_id=character.id,
        skin=_SKINS[d[7] % len(_SKINS)],
        hair_colour=_described(said, _DESCRIBED_HAIR) or _HAIRS[d[8] % len(_HAIRS)],
        hair_style=_described(said, _DESCRIBED_STYLE) or styles[d[9] % len(styles)],
        outfit=_described(said, _DESCRIBED_OUTFIT) or outfits[d[10] % len(outfits)],
        top_colour=top,
        bottom_colour=bottom,
        accent_colour=accent,
        accessory=_described(said, _DESCRIBED_ACCESSORY) or accessories[d[11] % len(accessories)],
        height=_between(d[12], _HEIGHTS[gender]),
        build=_between(d[13], _BUILDS[gender]),
    )
