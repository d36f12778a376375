"""Subtitle cues from speech segments, written as SRT (for players/uploads) and ASS (burned in).

One cue per spoken segment, at global time (shot start + segment time), so subtitles follow
the voice. Lines are wrapped here, measured with the actual font when we have its file, because
a vertical 9:16 frame is narrow and libass's own wrapping does not know our margins; CJK text
breaks between any two characters (never before closing punctuation). Text is escaped so that
braces and backslashes in dialogue are shown, not parsed as ASS override tags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pysubs2
from PIL import ImageFont

from storyreel_video.fonts import FontChoice, find_font, has_cjk, is_wide

_ALIGNMENT = {
    "bottom": pysubs2.Alignment.BOTTOM_CENTER,
    "middle": pysubs2.Alignment.MIDDLE_CENTER,  # libass ignores the vertical margin here
    "top": pysubs2.Alignment.TOP_CENTER,
}
_NO_LINE_START = set("，。、；：！？）》」』】〉,.;:!?)]}%…—~・")


@dataclass(frozen=True)
class SubtitleStyle:
    """How burned-in subtitles look. Sizes are in output pixels; None means "scaled to frame"."""

    font_size: int | None = None  # default 3.4% of frame height (44 px at 1280)
    font_family: str | None = None  # default: the best font found for the language
    color: tuple[int, int, int] = (255, 255, 255)
    outline_color: tuple[int, int, int] = (0, 0, 0)
    outline: float | None = None  # default ~3 px at 1280 high
    bold: bool = True
    bottom_margin: float = 0.13  # fraction of height; clears phone UI at the bottom
    side_margin: float = 0.06  # fraction of width, each side
    position: Literal["bottom", "middle", "top"] = "bottom"
    top_margin: float = 0.1  # fraction of height, for position="top"; clears the status bar


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class SubtitleFiles:
    count: int
    font: FontChoice


def _clean(text: str) -> str:
    return " ".join(text.replace("\\N", " ").split())


class _Measurer:
    def __init__(self, font: ImageFont.FreeTypeFont | None, size: int):
        self.font, self.size = font, size

    def width(self, text: str) -> float:
        if self.font is not None:
            return float(self.font.getlength(text))
        return sum(self.size * (1.0 if is_wide(ch) else 0.56) for ch in text)


def _tokens(text: str) -> list[str]:
    """Break opportunities: each wide (CJK) char alone, Latin words with their trailing space."""
    out: list[str] = []
    word = ""
    for ch in text:
        if is_wide(ch) or ch == " ":
            if word:
                out.append(word)
                word = ""
            if ch == " ":
                if out:
                    out[-1] += " "
            elif ch in _NO_LINE_START and out:
                out[-1] += ch  # keep closing punctuation on the line it closes
            else:
                out.append(ch)
        elif ch in _NO_LINE_START and not word and out:
            out[-1] += ch
        else:
            word += ch
    if word:
        out.append(word)
    return out


def wrap(text: str, max_width: float, measure: _Measurer) -> list[str]:
    """Greedy wrap into lines no wider than `max_width` (a single over-long word stays whole)."""
    lines: list[str] = []
    line = ""
    for tok in _tokens(_clean(text)):
        candidate = line + tok
        if line and measure.width(candidate.rstrip()) > max_width:
            lines.append(line.rstrip())
            line = tok
        else:
            line = candidate
    if line.strip():
        lines.append(line.rstrip())
    return lines


def escape_ass(line: str) -> str:
    """Show braces and backslashes literally instead of as override tags/escapes."""
    return line.replace("\\", "\uff3c").replace("{", "\\{").replace("}", "\\}")


def _color(rgb: tuple[int, int, int], alpha: int = 0) -> pysubs2.Color:
    return pysubs2.Color(rgb[0], rgb[1], rgb[2], alpha)


def cues_from_segments(
    starts: Sequence[float], segments: Sequence[Sequence[object]], total: float
) -> list[Cue]:
    """Global-time cues: one per non-empty segment, clipped to the video."""
    cues: list[Cue] = []
    for shot_start, segs in zip(starts, segments, strict=True):
        for seg in segs:
            text = _clean(str(getattr(seg, "text", "")))
            if not text:
                continue
            start = max(0.0, shot_start + float(getattr(seg, "start", 0.0)))
            end = min(total, shot_start + float(getattr(seg, "end", 0.0)))
            if end - start < 0.2:
                end = min(total, start + 0.2)
            if end <= start:
                continue
            cues.append(Cue(start, end, text))
    cues.sort(key=lambda c: c.start)
    return cues


def write_subtitles(
    cues: Sequence[Cue],
    *,
    srt_path: Path,
    ass_path: Path,
    width: int,
    height: int,
    style: SubtitleStyle | None = None,
    language: str = "en",
) -> SubtitleFiles:
    """Write both files (SRT plain text, ASS styled for burning) and return the font used."""
    style = style or SubtitleStyle()
    cjk = language.startswith("zh") or any(has_cjk(c.text) for c in cues)
    font = find_font(cjk)
    family = style.font_family or font.family
    size = style.font_size or max(12, round(height * 0.034))
    side = round(width * style.side_margin)
    pil_font: ImageFont.FreeTypeFont | None = None
    if font.path is not None and style.font_family is None:
        try:
            pil_font = ImageFont.truetype(str(font.path), size)
        except OSError:
            pil_font = None
    measure = _Measurer(pil_font, size)
    max_width = (width - 2 * side) * 0.97
    margin = style.top_margin if style.position == "top" else style.bottom_margin

    ass = pysubs2.SSAFile()
    ass.info.update(
        {
            "PlayResX": str(width),
            "PlayResY": str(height),
            "WrapStyle": "0",
            "ScaledBorderAndShadow": "yes",
            "YCbCr Matrix": "TV.709",
        }
    )
    ass.styles["Default"] = pysubs2.SSAStyle(
        fontname=family,
        fontsize=size,
        primarycolor=_color(style.color),
        secondarycolor=_color(style.color),
        outlinecolor=_color(style.outline_color),
        backcolor=_color((0, 0, 0), 128),
        bold=style.bold,
        outline=style.outline if style.outline is not None else max(1.0, height / 1280 * 3.0),
        # No drop shadow: the outline already separates text from the picture, and each extra
        # libass layer is another blend per glyph per frame.
        shadow=0.0,
        alignment=_ALIGNMENT[style.position],
        marginl=side,
        marginr=side,
        marginv=round(height * margin),
    )
    srt = pysubs2.SSAFile()
    for cue in cues:
        lines = wrap(cue.text, max_width, measure) or [cue.text]
        start, end = round(cue.start * 1000), round(cue.end * 1000)
        ass.events.append(
            pysubs2.SSAEvent(start=start, end=end, text="\\N".join(escape_ass(ln) for ln in lines))
        )
        # SRT has no tags: keep the text verbatim (only line breaks become \N for pysubs2).
        srt.events.append(pysubs2.SSAEvent(start=start, end=end, text="\\N".join(lines)))
    ass.save(str(ass_path), format_="ass")
    srt.save(str(srt_path), format_="srt", keep_ssa_tags=True)
    return SubtitleFiles(count=len(cues), font=font)
