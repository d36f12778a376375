"""Figure drawing: a character look turned into a stylised person, seen from the front (every
shot), the side or the back (the character sheet's turnaround).

Figures are built from a handful of flat shapes (PIL polygons and ellipses) in body-relative
coordinates, so one drawing routine serves a 20-pixel extra in an extreme wide shot and a
frame-filling face in a close-up. Detail (eyes, brows) is only added when it would be visible.
The three views share every colour and proportion: the side view is the front's silhouette
turned (the torso narrowed to its depth, legs and arms overlapping, one eye and ear, the nose
in profile, facing right) and the back view hides the face under the hair.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from PIL import ImageDraw

from storyreel_asset.character_look import CharacterLook
from storyreel_asset.palette import RGB, scale

_HIP_Y = 0.52  # where legs start, in figure heights from the top of the head
_Fill = tuple[int, int, int, int]
# Seen side-on a torso is its depth wide: about 0.6 of the shoulder width (chest depth over
# biacromial breadth in adult anthropometric tables is 0.55..0.65).
_SIDE_DEPTH = 0.6

View = Literal["front", "side", "back"]
VIEWS: tuple[View, ...] = ("front", "side", "back")


class _Body:
    """Maps body coordinates (x from the centre line, y from the head top, both in figure
    heights) to layer pixels, lengthening or shortening the legs for camera angle."""

    def __init__(
        self,
        centre_x: float,
        head_top: float,
        size: float,
        leg_scale: float,
        squash: float = 1.0,
    ) -> None:
        self.cx = centre_x
        self.top = head_top
        self.size = size
        self.leg_scale = leg_scale
        self.squash = squash  # horizontal scale: the side view's narrower torso

    def y(self, v: float) -> float:
        if v > _HIP_Y:
            v = _HIP_Y + (v - _HIP_Y) * self.leg_scale
        return self.top + v * self.size

    def pt(self, u: float, v: float) -> tuple[float, float]:
        return (self.cx + u * self.squash * self.size, self.y(v))

    def poly(self, points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        return [self.pt(u, v) for u, v in points]

    def box(self, u: float, v: float, ru: float, rv: float) -> tuple[float, float, float, float]:
        """Bounding box of an ellipse centred at (u, v) with radii (ru, rv); at least a pixel."""
        x, y = self.pt(u, v)
        rx = max(0.5, ru * self.squash * self.size)
        ry = max(0.5, rv * self.size)
        return (x - rx, y - ry, x + rx, y + ry)


def _fill(colour: RGB, light: RGB) -> _Fill:
    lit = scale(colour, light)
    return (round(lit[0]), round(lit[1]), round(lit[2]), 255)


def feet_y(head_top: float, size: float, leg_scale: float) -> float:
    """Pixel row of the soles, for ground shadows."""
    return head_top + size * (_HIP_Y + (1.0 - _HIP_Y) * leg_scale)


def draw_figure(
    draw: ImageDraw.ImageDraw,
    look: CharacterLook,
    *,
    centre_x: float,
    head_top: float,
    size: float,
    leg_scale: float = 1.0,
    light: RGB = (1.0, 1.0, 1.0),
    view: View = "front",
) -> None:
    """Draw one character, head top at `head_top`, `size` pixels from head top to hip-scaled
    feet; every colour is multiplied by `light` so people share the scene's lighting.

    `view` turns the figure: "front" (shots), "side" (profile facing right) or "back"; the
    colours, height and proportions are the same in each."""
    side_on = view == "side"
    # `b` carries the torso and garments (narrowed side-on); `h` the head, limbs and feet.
    b = _Body(centre_x, head_top, size, leg_scale, _SIDE_DEPTH if side_on else 1.0)
    h = _Body(centre_x, head_top, size, leg_scale) if side_on else b
    build = look.build
    skin = _fill(look.skin, light)
    hair = _fill(look.hair_colour, light)
    top = _fill(look.top_colour, light)
    top_shade = _fill(scale(look.top_colour, 0.8), light)
    bottom = _fill(look.bottom_colour, light)
    accent = _fill(look.accent_colour, light)
    shoe = _fill((30, 28, 30), light)

    shoulder = 0.118 * build
    waist = 0.082 * build
    hip = 0.092 * build

    if view != "back":  # seen from behind, the hair is drawn over the body instead
        _draw_back_hair(draw, h, look, hair, view)

    # Legs (hidden under long garments, but drawn anyway so feet show below).
    leg_top = 0.5
    if side_on:
        # One leg in front of the other; the far one a shade darker, shoes pointing forward.
        far = _fill(scale(look.bottom_colour, 0.8), light)
        for du, colour in ((-0.012, far), (0.012, bottom)):
            draw.polygon(
                h.poly(
                    [
                        (du - 0.032, leg_top),
                        (du + 0.032, leg_top),
                        (du + 0.02, 0.95),
                        (du - 0.02, 0.95),
                    ]
                ),
                fill=colour,
            )
            draw.ellipse(h.box(du + 0.014, 0.965, 0.036, 0.017), fill=shoe)
    else:
        for side in (-1.0, 1.0):
            inner = side * 0.008
            outer = side * (hip - 0.004)
            draw.polygon(
                b.poly(
                    [(inner, leg_top), (outer, leg_top), (side * 0.05, 0.95), (side * 0.018, 0.95)]
                ),
                fill=bottom,
            )
            draw.ellipse(b.box(side * 0.036, 0.965, 0.032, 0.017), fill=shoe)

    # Garment body.
    front = view == "front"
    if look.outfit == "dress":
        draw.polygon(
            b.poly(
                [
                    (-shoulder, 0.185),
                    (shoulder, 0.185),
                    (waist, 0.44),
                    (0.16, 0.8),
                    (-0.16, 0.8),
                    (-waist, 0.44),
                ]
            ),
            fill=top,
        )
    elif look.outfit == "robe":
        draw.polygon(
            b.poly(
                [
                    (-shoulder, 0.185),
                    (shoulder, 0.185),
                    (hip, 0.5),
                    (0.13, 0.93),
                    (-0.13, 0.93),
                    (-hip, 0.5),
                ]
            ),
            fill=top,
        )
        draw.polygon(  # the sash goes all the way round
            b.poly([(-waist, 0.42), (waist, 0.42), (waist, 0.455), (-waist, 0.455)]), fill=accent
        )
        if front:
            draw.polygon(b.poly([(-0.05, 0.19), (0.0, 0.3), (0.05, 0.19)]), fill=top_shade)
    else:
        hem = {"coat": 0.64, "suit": 0.55, "hoodie": 0.54}[look.outfit]
        draw.polygon(
            b.poly(
                [
                    (-shoulder, 0.185),
                    (shoulder, 0.185),
                    (waist + 0.01, 0.44),
                    (hip + 0.01, hem),
                    (-hip - 0.01, hem),
                    (-waist - 0.01, 0.44),
                ]
            ),
            fill=top,
        )
        if look.outfit == "suit" and front:
            shirt = _fill((236, 236, 232), light)
            draw.polygon(b.poly([(-0.04, 0.185), (0.04, 0.185), (0.0, 0.33)]), fill=shirt)
            draw.polygon(
                b.poly([(-0.008, 0.2), (0.008, 0.2), (0.012, 0.3), (0.0, 0.32), (-0.012, 0.3)]),
                fill=accent,
            )
        elif look.outfit == "coat" and view != "side":  # front opening, or the back seam
            draw.line(
                [b.pt(0.0, 0.2), b.pt(0.0, hem)], fill=top_shade, width=max(1, round(0.006 * size))
            )
        elif look.outfit == "hoodie" and front:  # a pocket band and drawstrings in the accent
            draw.polygon(
                b.poly([(-0.06, 0.42), (0.06, 0.42), (0.07, 0.5), (-0.07, 0.5)]), fill=top_shade
            )
            for side in (-1.0, 1.0):
                draw.line(
                    [b.pt(side * 0.02, 0.19), b.pt(side * 0.022, 0.26)],
                    fill=accent,
                    width=max(1, round(0.005 * size)),
                )
        elif look.outfit == "hoodie" and view == "back":  # the hood lying on the shoulders
            draw.chord(b.box(0.0, 0.19, 0.07, 0.06), 0, 180, fill=top_shade)

    # Arms, slightly shaded so they separate from the torso; hands at the hip line. Side-on
    # the near arm hangs over the torso and hides the far one.
    if side_on:
        draw.polygon(
            h.poly([(-0.022, 0.19), (0.022, 0.19), (0.03, 0.47), (-0.01, 0.47)]), fill=top_shade
        )
        draw.ellipse(h.box(0.012, 0.49, 0.02, 0.026), fill=skin)
    else:
        for side in (-1.0, 1.0):
            draw.polygon(
                b.poly(
                    [
                        (side * (shoulder - 0.03), 0.185),
                        (side * (shoulder + 0.005), 0.2),
                        (side * (shoulder + 0.03), 0.47),
                        (side * (shoulder - 0.012), 0.47),
                    ]
                ),
                fill=top_shade,
            )
            draw.ellipse(b.box(side * (shoulder + 0.01), 0.49, 0.02, 0.026), fill=skin)

    # Neck and head.
    draw.polygon(h.poly([(-0.022, 0.12), (0.022, 0.12), (0.025, 0.19), (-0.025, 0.19)]), fill=skin)
    if look.accessory == "scarf":
        draw.polygon(
            b.poly([(-0.05, 0.16), (0.05, 0.16), (0.055, 0.2), (-0.055, 0.2)]), fill=accent
        )
        if view != "back":  # the loose end hangs in front
            draw.polygon(
                h.poly([(0.015, 0.19), (0.045, 0.19), (0.05, 0.3), (0.022, 0.3)]), fill=accent
            )
    if side_on:
        draw.ellipse(h.box(0.0, 0.075, 0.058, 0.072), fill=skin)
        draw.ellipse(h.box(-0.008, 0.085, 0.011, 0.016), fill=skin)  # the one ear
        _draw_profile(draw, h, look, light, hair, skin)
        _draw_side_hair(draw, h, look, hair)
    else:
        draw.ellipse(b.box(0.0, 0.075, 0.054, 0.072), fill=skin)
        draw.ellipse(b.box(-0.055, 0.085, 0.009, 0.016), fill=skin)  # ears
        draw.ellipse(b.box(0.055, 0.085, 0.009, 0.016), fill=skin)
        if front:
            _draw_face(draw, b, look, light, hair)
            _draw_front_hair(draw, b, look, hair)
        else:
            if look.accessory == "satchel":  # its strap runs under hair that falls on the back
                _draw_accessory(draw, h, look, accent, light, shoulder, view)
            _draw_hair_from_behind(draw, b, look, hair)
            if look.accessory == "satchel":
                return
    _draw_accessory(draw, h, look, accent, light, shoulder, view)


def _draw_back_hair(
    draw: ImageDraw.ImageDraw, b: _Body, look: CharacterLook, hair: _Fill, view: View = "front"
) -> None:
    """Hair that falls behind the head and shoulders (drawn before the body)."""
    style = look.hair_style
    if view == "side":  # it falls behind the head, toward -u
        if style == "long":
            draw.polygon(
                b.poly([(-0.062, 0.04), (0.0, 0.04), (-0.02, 0.3), (-0.08, 0.3)]), fill=hair
            )
        elif style == "bob":
            draw.polygon(
                b.poly([(-0.062, 0.04), (0.0, 0.04), (-0.01, 0.14), (-0.07, 0.14)]), fill=hair
            )
        elif style == "ponytail":
            draw.ellipse(b.box(-0.07, 0.12, 0.022, 0.08), fill=hair)
        return
    if style == "long":
        draw.polygon(b.poly([(-0.066, 0.04), (0.066, 0.04), (0.08, 0.3), (-0.08, 0.3)]), fill=hair)
    elif style == "bob":
        draw.polygon(
            b.poly([(-0.066, 0.04), (0.066, 0.04), (0.07, 0.14), (-0.07, 0.14)]), fill=hair
        )
    elif style == "ponytail":
        draw.ellipse(b.box(0.06, 0.13, 0.022, 0.08), fill=hair)


def _spikes(draw: ImageDraw.ImageDraw, b: _Body, hair: _Fill) -> None:
    spikes = [(-0.065, 0.04)]
    for i in range(6):
        u = -0.06 + i * 0.024
        spikes += [(u, -0.004), (u + 0.012, -0.035)]
    spikes += [(0.065, 0.04)]
    draw.polygon(b.poly(spikes), fill=hair)


def _draw_hair_from_behind(
    draw: ImageDraw.ImageDraw, b: _Body, look: CharacterLook, hair: _Fill
) -> None:
    """The back view: hair covers the whole head (no face), long hair falls over the back."""
    style = look.hair_style
    draw.ellipse(b.box(0.0, 0.072, 0.058, 0.07), fill=hair)
    if style == "long":
        draw.polygon(b.poly([(-0.066, 0.06), (0.066, 0.06), (0.08, 0.3), (-0.08, 0.3)]), fill=hair)
    elif style == "bob":
        draw.polygon(
            b.poly([(-0.066, 0.06), (0.066, 0.06), (0.07, 0.14), (-0.07, 0.14)]), fill=hair
        )
    elif style == "ponytail":
        draw.ellipse(b.box(0.0, 0.15, 0.022, 0.08), fill=hair)
    elif style == "spiky":
        _spikes(draw, b, hair)
    elif style == "bun":
        draw.ellipse(b.box(0.0, -0.018, 0.028, 0.024), fill=hair)


def _draw_side_hair(draw: ImageDraw.ImageDraw, b: _Body, look: CharacterLook, hair: _Fill) -> None:
    """The profile: hair over the crown and the back of the head, the ear left showing."""
    style = look.hair_style
    cap = b.box(0.0, 0.06, 0.06, 0.062 if style != "buzz" else 0.056)
    draw.chord(cap, 180, 360, fill=hair)
    if style != "buzz":
        low = 0.14 if style in ("long", "bob") else 0.125
        draw.polygon(
            b.poly([(-0.061, 0.05), (-0.022, 0.05), (-0.026, 0.1), (-0.034, low), (-0.062, low)]),
            fill=hair,
        )
    if style == "spiky":
        _spikes(draw, b, hair)
    elif style == "bun":
        draw.ellipse(b.box(-0.034, -0.008, 0.028, 0.024), fill=hair)
    elif style == "short":
        draw.polygon(b.poly([(0.0, 0.03), (0.058, 0.04), (0.046, 0.058)]), fill=hair)  # fringe


def _draw_profile(
    draw: ImageDraw.ImageDraw,
    b: _Body,
    look: CharacterLook,
    light: RGB,
    hair: _Fill,
    skin: _Fill,
) -> None:
    """A face in profile, facing +u: the nose past the head's outline, one eye and brow."""
    draw.polygon(b.poly([(0.05, 0.072), (0.071, 0.1), (0.05, 0.104)]), fill=skin)
    if b.size * 0.054 < 6:
        return
    eye = _fill((34, 30, 34), light)
    mouth = _fill(scale(look.skin, (0.72, 0.5, 0.5)), light)
    draw.ellipse(b.box(0.032, 0.083, 0.005, 0.0085), fill=eye)
    width = max(1, round(0.004 * b.size))
    draw.line([b.pt(0.022, 0.067), b.pt(0.044, 0.066)], fill=hair, width=width)
    draw.line(
        [b.pt(0.036, 0.118), b.pt(0.05, 0.118)], fill=mouth, width=max(1, round(0.0035 * b.size))
    )


def _draw_front_hair(draw: ImageDraw.ImageDraw, b: _Body, look: CharacterLook, hair: _Fill) -> None:
    style = look.hair_style
    cap = b.box(0.0, 0.06, 0.06, 0.062 if style != "buzz" else 0.056)
    draw.chord(cap, 180, 360, fill=hair)
    if style in ("long", "bob"):
        # Side locks framing the face.
        for side in (-1.0, 1.0):
            draw.polygon(
                b.poly(
                    [
                        (side * 0.06, 0.05),
                        (side * 0.035, 0.05),
                        (side * 0.05, 0.13),
                        (side * 0.066, 0.14),
                    ]
                ),
                fill=hair,
            )
    elif style == "spiky":
        _spikes(draw, b, hair)
    elif style == "bun":
        draw.ellipse(b.box(0.0, -0.018, 0.028, 0.024), fill=hair)
    elif style == "short":
        draw.polygon(b.poly([(-0.058, 0.03), (0.02, 0.03), (-0.045, 0.065)]), fill=hair)  # fringe


def _draw_face(
    draw: ImageDraw.ImageDraw, b: _Body, look: CharacterLook, light: RGB, hair: _Fill
) -> None:
    if b.size * 0.054 < 6:  # head narrower than ~12 px: features would be noise
        return
    eye = _fill((34, 30, 34), light)
    mouth = _fill(scale(look.skin, (0.72, 0.5, 0.5)), light)
    for side in (-1.0, 1.0):
        draw.ellipse(b.box(side * 0.021, 0.083, 0.0065, 0.0085), fill=eye)
        draw.line(
            [b.pt(side * 0.03, 0.068), b.pt(side * 0.012, 0.066)],
            fill=hair,
            width=max(1, round(0.004 * b.size)),
        )
    draw.line(
        [b.pt(-0.012, 0.118), b.pt(0.012, 0.118)], fill=mouth, width=max(1, round(0.0035 * b.size))
    )


def _draw_accessory(
    draw: ImageDraw.ImageDraw,
    b: _Body,
    look: CharacterLook,
    accent: _Fill,
    light: RGB,
    shoulder: float,
    view: View = "front",
) -> None:
    kind = look.accessory
    if kind == "hat":
        draw.ellipse(b.box(0.0, 0.02, 0.085, 0.016), fill=accent)
        draw.polygon(
            b.poly([(-0.05, 0.02), (0.05, 0.02), (0.045, -0.035), (-0.045, -0.035)]), fill=accent
        )
    elif kind == "glasses" and b.size * 0.054 >= 4 and view != "back":
        frame = _fill((26, 24, 28), light)
        width = max(1, round(0.004 * b.size))
        if view == "side":  # one lens and the temple running back to the ear
            draw.ellipse(b.box(0.036, 0.084, 0.01, 0.013), outline=frame, width=width)
            draw.line([b.pt(0.026, 0.083), b.pt(-0.004, 0.082)], fill=frame, width=width)
            return
        for side in (-1.0, 1.0):
            draw.ellipse(b.box(side * 0.022, 0.084, 0.017, 0.013), outline=frame, width=width)
        draw.line([b.pt(-0.005, 0.083), b.pt(0.005, 0.083)], fill=frame, width=width)
    elif kind == "earrings":
        for u in (-0.006,) if view == "side" else (-0.057, 0.057):
            draw.ellipse(b.box(u, 0.108, 0.008, 0.008), fill=accent)
    elif kind == "headband":
        draw.chord(b.box(0.0, 0.062, 0.062, 0.064), 200, 340, fill=accent)
        draw.chord(b.box(0.0, 0.07, 0.056, 0.058), 200, 340, fill=_fill(look.hair_colour, light))
    elif kind == "satchel":
        width = max(1, round(0.012 * b.size))
        if view == "side":  # the strap over the near shoulder, the bag on the hip behind
            draw.line([b.pt(0.01, 0.19), b.pt(-0.04, 0.46)], fill=accent, width=width)
            draw.polygon(
                b.poly([(-0.075, 0.44), (-0.015, 0.44), (-0.015, 0.52), (-0.075, 0.52)]),
                fill=accent,
            )
            return
        flip = -1.0 if view == "back" else 1.0  # from behind the bag hangs on the other side
        draw.line(
            [b.pt(flip * (-shoulder + 0.03), 0.19), b.pt(flip * (shoulder - 0.01), 0.46)],
            fill=accent,
            width=width,
        )
        draw.polygon(
            b.poly(
                [
                    (flip * (shoulder - 0.05), 0.44),
                    (flip * (shoulder + 0.02), 0.44),
                    (flip * (shoulder + 0.02), 0.52),
                    (flip * (shoulder - 0.05), 0.52),
                ]
            ),
            fill=accent,
        )
