"""The thumbnail: the frame that best shows the story's people, with the title on it.

A player or a feed shows this before anything plays, so it should say who the story is about
and what it is called: the shot with the most of its characters' faces on screen (largest
faces first, the earliest on a tie), at the moment `THUMBNAIL_AT` into it, with the title set
in the subtitle font in the upper part of the frame (clear of the faces the frames job
reported), outlined so it reads on any picture.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from storyreel_video.fonts import find_font, has_cjk, readable, wants_traditional
from storyreel_video.ken_burns import still_frame
from storyreel_video.specs import ClipSpec

THUMBNAIL_AT = 1.0  # seconds into the chosen shot (capped at 30% of it)
_TITLE_SIZE = 0.055  # fraction of the frame height
_TITLE_TOP = 0.07


def best_shot(clips: Sequence[ClipSpec]) -> int:
    """Index of the shot whose frame shows most of its characters: most faces, then the
    largest face area, then the earliest. A cut without reported figures gives shot 0."""

    def score(item: tuple[int, ClipSpec]) -> tuple[int, float, int]:
        index, clip = item
        faces = [f.face for f in clip.figures if f.face[2] > f.face[0] and f.face[3] > f.face[1]]
        area = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in faces)
        return (len(faces), min(area, 0.08), -index)

    return max(enumerate(clips), key=score)[0]


def _wrap_title(title: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for ch in title:
        if line and font.getlength(line + ch) > max_width:
            cut = line.rfind(" ")
            if ch != " " and cut > 0:
                lines.append(line[:cut])
                line = line[cut + 1 :] + ch
            else:
                lines.append(line.rstrip())
                line = ch.lstrip()
        else:
            line += ch
    if line.strip():
        lines.append(line.strip())
    return lines[:3]


def draw_title(image: Image.Image, title: str, language: str = "en") -> Image.Image:
    """`image` with `title` in up to three centred lines near its top (in place; returned)."""
    title = " ".join(title.split())
    if not title:
        return image
    cjk = language.lower().startswith("zh") or has_cjk(title)
    choice = find_font(cjk, cjk and wants_traditional(language, title))
    width, height = image.size
    size = max(12, round(height * _TITLE_SIZE))
    if choice.path is None:
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.load_default(size)
    else:
        font = ImageFont.truetype(str(choice.path), size, index=choice.index)
        with contextlib.suppress(OSError, ValueError):
            font.set_variation_by_name("Bold")
    text = readable(title, choice)
    assert isinstance(font, ImageFont.FreeTypeFont)
    lines = _wrap_title(text, font, width * 0.86)
    draw = ImageDraw.Draw(image)
    stroke = max(2, size // 12)
    y = height * _TITLE_TOP
    for line in lines:
        draw.text(
            (width / 2, y),
            line,
            font=font,
            fill=(255, 255, 255),
            anchor="ma",
            stroke_width=stroke,
            stroke_fill=(0, 0, 0),
        )
        y += size * 1.25
    return image


def save_thumbnail(
    clips: Sequence[ClipSpec],
    width: int,
    height: int,
    path: Path,
    *,
    title: str = "",
    language: str = "en",
) -> Path:
    """Write the JPEG: the best shot (`best_shot`) about a second in, titled."""
    clip = clips[best_shot(clips)]
    at = min(THUMBNAIL_AT, 0.3 * clip.duration) / clip.duration
    image = still_frame(clip.image_path, clip.camera_movement, width, height, at)
    draw_title(image, title, language)
    image.save(path, format="JPEG", quality=88, optimize=True)
    return path
