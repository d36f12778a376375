"""The dynamic subtitle templates: ids, names and the options each one reads.

One catalogue for every part that names a template: the gateway validates
`subtitle_template` (studio final cut, `/pipeline/render`) and `/dynamic-subtitles/process`
against it, the workflow forwards it, and the video service draws each template as ASS effects
burned by libass (`storyreel_video.subtitle_effects`). What a template looks like lives there;
this module only says which exist and what they take.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from storyreel_core.errors import ValidationFailed


@dataclass(frozen=True)
class TemplateParameter:
    """An option a template reads: `name` as sent in `options`, its JSON `type`, the default."""

    name: str
    type: str
    default: object
    description: str


@dataclass(frozen=True)
class SubtitleTemplate:
    id: str
    name: str
    description: str
    parameters: tuple[TemplateParameter, ...]


_COMMON = (
    TemplateParameter("font_size", "integer", None, "px, 8-200; default 3.4% of frame height"),
    TemplateParameter("color", "string", "#FFFFFF", "text colour, #RRGGBB"),
    TemplateParameter("outline_color", "string", "#000000", "outline colour, #RRGGBB"),
    TemplateParameter("position", "string", "bottom", "bottom | middle | top"),
)
_HIGHLIGHT = TemplateParameter(
    "highlight_color", "string", "#FFD400", "colour of the word being spoken, #RRGGBB"
)
_BOX = TemplateParameter("box_color", "string", "#000000", "colour of the box behind the text")

TEMPLATES: tuple[SubtitleTemplate, ...] = (
    SubtitleTemplate(
        "classic",
        "Classic",
        "The final cut's own subtitles: white text with a dark outline, no animation.",
        _COMMON,
    ),
    SubtitleTemplate(
        "karaoke",
        "Karaoke",
        "Word by word: each word turns to the highlight colour when it is spoken (ASS \\k).",
        (*_COMMON, _HIGHLIGHT),
    ),
    SubtitleTemplate(
        "karaoke_sweep",
        "Karaoke sweep",
        "Each word fills with the highlight colour from left to right while it is spoken"
        " (ASS \\kf).",
        (*_COMMON, _HIGHLIGHT),
    ),
    SubtitleTemplate(
        "pop_in",
        "Pop-in",
        "Each line pops in: it grows from 40% past full size and settles (ASS \\t scale).",
        _COMMON,
    ),
    SubtitleTemplate(
        "bounce",
        "Bounce",
        "Each line drops in from above and bounces twice before it rests (ASS \\move).",
        _COMMON,
    ),
    SubtitleTemplate(
        "typewriter",
        "Typewriter",
        "Characters appear one by one as they are spoken, the line keeping its place (\\ko).",
        _COMMON,
    ),
    SubtitleTemplate(
        "boxed",
        "Outlined box",
        "Text on an opaque box (ASS BorderStyle 3), readable over any picture.",
        (*_COMMON, _BOX),
    ),
    SubtitleTemplate(
        "fade_slide",
        "Fade and slide",
        "Each line fades in while sliding up into place, and fades out (ASS \\fad, \\move).",
        _COMMON,
    ),
)
TemplateId = Literal[
    "classic", "karaoke", "karaoke_sweep", "pop_in", "bounce", "typewriter", "boxed", "fade_slide"
]
"""A template id as an API field type: a wrong one is a 400 naming them all."""
TEMPLATE_IDS: tuple[str, ...] = tuple(t.id for t in TEMPLATES)
assert get_args(TemplateId) == TEMPLATE_IDS, "TemplateId must list TEMPLATES' ids"
BY_ID: dict[str, SubtitleTemplate] = {t.id: t for t in TEMPLATES}


def check_template(value: str | None, field: str = "subtitle_template") -> str | None:
    """`value` stripped when it names a template, None when empty; else `ValidationFailed`
    (400, code 1001) on `field`, naming every template id."""
    if value is None or not value.strip():
        return None
    name = value.strip()
    if name not in BY_ID:
        raise ValidationFailed(
            f"unknown subtitle template {name!r}; available: {', '.join(TEMPLATE_IDS)}",
            field=field,
        )
    return name
