"""Prop silhouettes: a recognisable object shape for a prop design image.

Props arrive as a name and free text, so keywords (Chinese and English) pick one of a few
archetypal shapes; anything unrecognised gets a vase/gem/box shape chosen by the name's hash,
so each prop keeps one consistent design across runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PIL import ImageDraw

from storyreel_asset.palette import RGB, Palette, hsv, mix, scale, to_int
from storyreel_asset.stable_hash import stable_digest

_Point = tuple[float, float]
_Shape = Callable[["_Pen"], None]


class _Pen:
    """Draws in prop-relative units: (0, 0) is the image centre, 1 unit is a third of the
    shorter side, so every shape fits with margin in any aspect ratio."""

    def __init__(
        self,
        draw: ImageDraw.ImageDraw,
        size: tuple[int, int],
        main: RGB,
        trim: RGB,
        centre: tuple[float, float] | None = None,
        unit: float | None = None,
    ) -> None:
        self.draw = draw
        self.cx, self.cy = centre if centre is not None else (size[0] / 2, size[1] / 2)
        self.unit = unit if unit is not None else min(size) / 3
        self.main = (*to_int(main), 255)
        self.trim = (*to_int(trim), 255)
        self.shade = (*to_int(scale(main, 0.7)), 255)

    def pts(self, points: list[_Point]) -> list[_Point]:
        return [(self.cx + u * self.unit, self.cy + v * self.unit) for u, v in points]

    def poly(self, points: list[_Point], colour: tuple[int, int, int, int]) -> None:
        self.draw.polygon(self.pts(points), fill=colour)

    def oval(self, u: float, v: float, ru: float, rv: float, colour: tuple[int, ...]) -> None:
        x, y = self.cx + u * self.unit, self.cy + v * self.unit
        self.draw.ellipse(
            (x - ru * self.unit, y - rv * self.unit, x + ru * self.unit, y + rv * self.unit),
            fill=colour,
        )

    def ring(self, u: float, v: float, r: float, width: float, colour: tuple[int, ...]) -> None:
        x, y = self.cx + u * self.unit, self.cy + v * self.unit
        self.draw.ellipse(
            (x - r * self.unit, y - r * self.unit, x + r * self.unit, y + r * self.unit),
            outline=colour,
            width=max(1, round(width * self.unit)),
        )


def _sword(p: _Pen) -> None:
    p.poly([(-0.05, 0.35), (0.05, 0.35), (0.05, -1.0), (0.0, -1.15), (-0.05, -1.0)], p.main)
    p.poly([(-0.3, 0.35), (0.3, 0.35), (0.3, 0.45), (-0.3, 0.45)], p.trim)
    p.poly([(-0.045, 0.45), (0.045, 0.45), (0.045, 0.95), (-0.045, 0.95)], p.shade)
    p.oval(0.0, 1.0, 0.08, 0.08, p.trim)


def _cup(p: _Pen) -> None:
    p.ring(0.5, -0.05, 0.22, 0.07, p.main)
    p.poly([(-0.5, -0.45), (0.5, -0.45), (0.4, 0.5), (-0.4, 0.5)], p.main)
    p.oval(0.0, -0.45, 0.5, 0.1, p.shade)
    p.oval(0.0, 0.62, 0.6, 0.08, p.trim)


def _book(p: _Pen) -> None:
    p.poly([(-0.65, -0.85), (0.6, -0.85), (0.6, 0.85), (-0.65, 0.85)], p.main)
    p.poly([(-0.65, -0.85), (-0.5, -0.85), (-0.5, 0.85), (-0.65, 0.85)], p.shade)
    p.poly([(-0.3, -0.45), (0.4, -0.45), (0.4, -0.3), (-0.3, -0.3)], p.trim)


def _phone(p: _Pen) -> None:
    p.poly([(-0.45, -0.95), (0.45, -0.95), (0.45, 0.95), (-0.45, 0.95)], p.shade)
    p.poly([(-0.38, -0.8), (0.38, -0.8), (0.38, 0.8), (-0.38, 0.8)], p.main)
    p.oval(0.0, -0.88, 0.05, 0.03, p.trim)


def _key(p: _Pen) -> None:
    p.ring(0.0, -0.6, 0.32, 0.1, p.main)
    p.poly([(-0.06, -0.3), (0.06, -0.3), (0.06, 0.95), (-0.06, 0.95)], p.main)
    p.poly([(0.06, 0.6), (0.3, 0.6), (0.3, 0.7), (0.06, 0.7)], p.main)
    p.poly([(0.06, 0.82), (0.25, 0.82), (0.25, 0.92), (0.06, 0.92)], p.main)


def _ring(p: _Pen) -> None:
    p.ring(0.0, 0.15, 0.6, 0.12, p.main)
    p.poly([(-0.2, -0.45), (0.2, -0.45), (0.28, -0.6), (0.0, -0.85), (-0.28, -0.6)], p.trim)


def _letter(p: _Pen) -> None:
    p.poly([(-0.9, -0.55), (0.9, -0.55), (0.9, 0.55), (-0.9, 0.55)], p.main)
    p.poly([(-0.9, -0.55), (0.9, -0.55), (0.0, 0.1)], p.shade)
    p.oval(0.0, 0.1, 0.14, 0.14, p.trim)


def _bottle(p: _Pen) -> None:
    p.poly(
        [
            (-0.12, -1.0),
            (0.12, -1.0),
            (0.12, -0.55),
            (0.4, -0.3),
            (0.4, 0.95),
            (-0.4, 0.95),
            (-0.4, -0.3),
            (-0.12, -0.55),
        ],
        p.main,
    )
    p.poly([(-0.4, 0.0), (0.4, 0.0), (0.4, 0.45), (-0.4, 0.45)], p.trim)


def _box(p: _Pen) -> None:
    p.poly([(-0.7, -0.2), (0.7, -0.2), (0.7, 0.75), (-0.7, 0.75)], p.main)
    p.poly([(-0.78, -0.45), (0.78, -0.45), (0.78, -0.2), (-0.78, -0.2)], p.shade)
    p.poly([(-0.08, -0.45), (0.08, -0.45), (0.08, 0.75), (-0.08, 0.75)], p.trim)


def _lamp(p: _Pen) -> None:
    p.poly([(-0.5, -0.3), (0.5, -0.3), (0.3, -0.9), (-0.3, -0.9)], p.trim)
    p.poly([(-0.05, -0.3), (0.05, -0.3), (0.05, 0.8), (-0.05, 0.8)], p.main)
    p.oval(0.0, 0.85, 0.4, 0.1, p.main)


def _umbrella(p: _Pen) -> None:
    p.draw.chord(
        (p.cx - p.unit, p.cy - 0.9 * p.unit, p.cx + p.unit, p.cy + 0.5 * p.unit),
        180,
        360,
        fill=p.main,
    )
    p.poly([(-0.04, -0.2), (0.04, -0.2), (0.04, 0.85), (-0.04, 0.85)], p.shade)
    p.ring(-0.12, 0.85, 0.14, 0.06, p.shade)


def _fan(p: _Pen) -> None:
    p.draw.pieslice(
        (p.cx - p.unit, p.cy - 0.6 * p.unit, p.cx + p.unit, p.cy + 1.4 * p.unit),
        200,
        340,
        fill=p.main,
    )
    p.oval(0.0, 0.4, 0.08, 0.08, p.trim)


def _pendant(p: _Pen) -> None:
    p.poly([(-0.02, -1.0), (0.02, -1.0), (0.02, -0.5), (-0.02, -0.5)], p.trim)
    p.oval(0.0, 0.05, 0.55, 0.55, p.main)
    p.oval(0.0, 0.05, 0.18, 0.18, (0, 0, 0, 0))
    p.poly([(-0.1, 0.6), (0.1, 0.6), (0.05, 1.0), (-0.05, 1.0)], p.trim)


def _vase(p: _Pen) -> None:
    p.poly(
        [
            (-0.2, -0.95),
            (0.2, -0.95),
            (0.15, -0.6),
            (0.55, -0.1),
            (0.4, 0.85),
            (-0.4, 0.85),
            (-0.55, -0.1),
            (-0.15, -0.6),
        ],
        p.main,
    )
    p.poly([(-0.52, -0.05), (0.52, -0.05), (0.5, 0.1), (-0.5, 0.1)], p.trim)


def _gem(p: _Pen) -> None:
    p.poly([(-0.7, -0.3), (-0.35, -0.7), (0.35, -0.7), (0.7, -0.3), (0.0, 0.85)], p.main)
    p.poly([(-0.7, -0.3), (0.7, -0.3), (0.0, 0.85)], p.shade)


def _lantern(p: _Pen) -> None:
    p.poly([(-0.02, -1.0), (0.02, -1.0), (0.02, -0.6), (-0.02, -0.6)], p.shade)
    p.poly([(-0.3, -0.66), (0.3, -0.66), (0.3, -0.5), (-0.3, -0.5)], p.shade)
    p.oval(0.0, 0.0, 0.6, 0.55, p.main)
    p.poly([(-0.3, 0.5), (0.3, 0.5), (0.3, 0.66), (-0.3, 0.66)], p.shade)
    p.poly([(-0.04, 0.66), (0.04, 0.66), (0.07, 0.98), (-0.07, 0.98)], p.trim)


def _boat(p: _Pen) -> None:
    p.poly([(-0.03, 0.32), (0.03, 0.32), (0.03, -0.95), (-0.03, -0.95)], p.shade)
    p.poly([(0.08, -0.9), (0.08, 0.22), (0.78, 0.22)], p.trim)
    p.poly([(-1.0, 0.3), (1.0, 0.3), (0.72, 0.78), (-0.72, 0.78)], p.main)


def _horse(p: _Pen) -> None:
    for u in (-0.45, -0.3, 0.3, 0.45):
        p.poly([(u - 0.05, 0.05), (u + 0.05, 0.05), (u + 0.045, 0.88), (u - 0.045, 0.88)], p.main)
    p.oval(0.0, -0.05, 0.62, 0.28, p.main)
    p.poly([(0.3, -0.18), (0.55, -0.32), (0.82, -0.78), (0.6, -0.84)], p.main)
    p.poly([(0.6, -0.88), (0.82, -0.84), (1.08, -0.56), (0.97, -0.45), (0.72, -0.6)], p.main)
    p.poly([(0.5, -0.28), (0.42, -0.24), (0.58, -0.86), (0.66, -0.84)], p.shade)
    p.poly([(-0.58, -0.16), (-0.66, -0.2), (-0.92, 0.45), (-0.78, 0.45)], p.shade)


_SHAPES: tuple[tuple[tuple[str, ...], _Shape], ...] = (
    (("lantern", "灯笼"), _lantern),
    (("boat", "ship", "canoe", "raft", "船", "舟"), _boat),
    (
        (
            "horse",
            "pony",
            "stallion",
            "骑马",
            "白马",
            "黑马",
            "战马",
            "骏马",
            "马背",
            "马车",
            "马匹",
        ),
        _horse,
    ),
    (("sword", "blade", "knife", "dagger", "剑", "刀", "匕首"), _sword),
    (("cup", "mug", "teacup", "goblet", "glass", "杯", "茶盏", "碗"), _cup),
    (("book", "diary", "notebook", "journal", "scroll", "书", "日记", "卷轴", "秘籍"), _book),
    (("phone", "mobile", "smartphone", "tablet", "手机", "电话"), _phone),
    (("key", "钥匙"), _key),
    (("ring", "戒指", "指环"), _ring),
    (("letter", "envelope", "note", "信", "信封", "纸条"), _letter),
    (("bottle", "potion", "wine", "vial", "瓶", "酒", "药"), _bottle),
    (("box", "chest", "case", "gift", "package", "盒", "箱", "礼物"), _box),
    (("lamp", "lantern", "candle", "light", "灯", "蜡烛"), _lamp),
    (("umbrella", "伞"), _umbrella),
    (("fan", "扇"), _fan),
    (("pendant", "jade", "necklace", "amulet", "玉", "佩", "项链"), _pendant),
)
_FALLBACK: tuple[_Shape, ...] = (_vase, _gem, _box, _pendant)
_PATTERNS = tuple(
    (
        re.compile(
            "|".join(
                rf"\b{re.escape(w)}(?:s|es)?\b" if w.isascii() else re.escape(w) for w in words
            )
        ),
        shape,
    )
    for words, shape in _SHAPES
)


def prop_shape(text: str, name: str) -> _Shape:
    """The shape for a prop: the earliest keyword in the text, else one picked by name hash."""
    lowered = text.lower()
    best: tuple[int, _Shape] | None = None
    for pattern, shape in _PATTERNS:
        found = pattern.search(lowered)
        if found is not None and (best is None or found.start() < best[0]):
            best = (found.start(), shape)
    if best is not None:
        return best[1]
    return _FALLBACK[stable_digest("prop-shape", name)[0] % len(_FALLBACK)]


def draw_prop(
    draw: ImageDraw.ImageDraw,
    text: str,
    name: str,
    palette: Palette,
    size: tuple[int, int],
    *,
    centre: tuple[float, float] | None = None,
    unit: float | None = None,
) -> None:
    """Draw the prop on a transparent layer, tinted between its own hashed hue and the style's
    accent so it belongs to the production's look. By default it fills the middle of the
    layer; `centre` (pixels) and `unit` (pixels per shape unit, the shape spans about ±1)
    put it anywhere at any size, as a frame does."""
    digest = stable_digest("prop-colour", name)
    own = hsv(digest[0] / 256.0, 0.55, 0.55 + 0.35 * digest[1] / 255.0)
    main = mix(own, palette.accent, 0.35)
    trim = mix(palette.accent2, (240, 220, 160), 0.4)
    pen = _Pen(draw, size, scale(main, palette.key_light), trim, centre, unit)
    prop_shape(text, name)(pen)


# Words that name a prop in a shot's own text (narration, dialogue, prompt), for screenplays
# that do not list props: whole words only, no single characters that are mostly parts of
# other words (信 in 相信, 马 in 马上).
_IN_TEXT: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("lantern", ("灯笼", "lantern")),
    ("lamp", ("油灯", "蜡烛", "台灯", "lamp", "candle")),
    ("boat", ("小船", "渔船", "船上", "乘船", "坐船", "一艘", "木船", "boat", "ship", "canoe")),
    ("horse", ("骑马", "白马", "黑马", "战马", "骏马", "马背", "马车", "骑着马", "horse")),
    ("sword", ("长剑", "宝剑", "剑", "sword", "blade")),
    ("letter", ("那封信", "一封信", "书信", "信封", "来信", "letter", "envelope")),
    ("umbrella", ("雨伞", "撑伞", "伞", "umbrella")),
    ("book", ("书本", "日记", "书卷", "古籍", "book", "diary")),
    ("cup", ("茶杯", "酒杯", "杯子", "茶盏", "cup", "mug")),
    ("key", ("钥匙", "key")),
    ("phone", ("手机", "phone")),
)
LARGE_PROPS = frozenset({"boat", "horse"})


def props_in_text(text: str) -> list[str]:
    """Props a shot's text names, in the order it names them (each kind once)."""
    lowered = text.lower()
    found: list[tuple[int, str]] = []
    for kind, words in _IN_TEXT:
        hits = [
            m.start()
            for w in words
            for m in re.finditer(rf"\b{re.escape(w)}s?\b" if w.isascii() else re.escape(w), lowered)
        ]
        if hits:
            found.append((min(hits), kind))
    return [kind for _, kind in sorted(found)]
