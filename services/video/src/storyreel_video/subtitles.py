"""Subtitle cues from speech segments, laid out for the frame, written as SRT and ASS.

Pipeline: `cues_from_segments` makes one cue per spoken segment at global time (shot start +
segment time) and carries the shot's character boxes; `layout_cues` turns each into cues a
viewer can read; `write_subtitles` writes them (ASS to burn with libass, SRT for players).

What the layout guarantees, at any resolution and aspect ratio:

- At most two lines per cue. A segment too long for two lines is split into several cues at
  clause boundaries (，。；：,.;: …), packed greedily; a clause too long on its own is split
  between words. Each cue gets the segment's time in proportion to its share of the spoken
  text (characters for Chinese, letters for Latin scripts, a little for each pause mark).
- Lines break between words: Chinese is segmented with jieba (never 灯|笼), other scripts at
  spaces; closing punctuation stays on the line it closes, opening punctuation with what it
  opens. Lines are balanced (two lines of similar width rather than a full one and a stub).
- Nothing is cut at the frame edge: widths are measured with the font libass draws with (the
  same file and face, Pillow's `getlength`) and a token wider than the line (a long word, a
  URL) is broken between characters. libass never re-wraps (WrapStyle 2).
- Text is data: ASS override braces and backslashes are escaped, SRT is written verbatim by
  the `srt` library; characters the font lacks are replaced by something readable
  (`fonts.readable`).
- Cues avoid faces: each cue is placed at the default margin unless that covers a face (head
  to chin) of a character on screen, in which case it moves to the nearest position in the
  safe area that does not; where it still crosses a body it gets a translucent box.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Literal

import pysubs2
import srt
from PIL import ImageFont

from storyreel_core.drama_models import FigureBox
from storyreel_video.fonts import (
    FontChoice,
    coverage,
    find_font,
    has_cjk,
    is_wide,
    readable,
    wants_traditional,
)
from storyreel_video.subtitle_effects import EffectEvent, Token, ass_colour, effect_events

_ALIGNMENT = {
    "bottom": pysubs2.Alignment.BOTTOM_CENTER,
    "middle": pysubs2.Alignment.MIDDLE_CENTER,  # libass ignores the vertical margin here
    "top": pysubs2.Alignment.TOP_CENTER,
}
MAX_LINES = 2
# Never at the start of a line (kept with what precedes) / never at its end (kept with what
# follows): the usual kinsoku sets, CJK and Latin.
_NO_LINE_START = set("，。、；：！？）》」』】〉’”,.;:!?)]}%…—~・")
_NO_LINE_END = set("（《「『【〈‘“([{")
# A clause ends after one of these (a cue may be cut there).
_CLAUSE_END = set("，。、；：！？…,.;:!?")
# Common single-character surnames: jieba often splits a name after one (林|小雨); a break
# there would cut the name, so the surname stays with the one- or two-character word after it.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤"
)
_PAUSE_WEIGHT = 0.6  # a pause mark counts as this many spoken characters when timing
_BOX_STYLE = "Boxed"


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
    safe_bottom: float = 0.04  # lowest a cue may move to avoid a face, fraction of height
    # A dynamic subtitle template (`storyreel_core.subtitle_templates`); "classic" = none.
    template: str = "classic"
    highlight_color: tuple[int, int, int] = (255, 212, 0)  # karaoke templates
    box_color: tuple[int, int, int] = (0, 0, 0)  # the boxed template


@dataclass(frozen=True)
class Cue:
    """Text spoken from `start` to `end` (seconds, video time); `figures` are the characters
    on screen meanwhile (frame fractions), which the layout keeps the text clear of."""

    start: float
    end: float
    text: str
    figures: tuple[FigureBox, ...] = field(default=())


@dataclass(frozen=True)
class PlacedCue:
    """A cue as drawn: one or two lines, the bottom (or top) margin in pixels, boxed or not,
    and the pixel rectangle (x0, y0, x1, y1) the text block takes in the frame."""

    start: float
    end: float
    lines: tuple[str, ...]
    margin_v: int
    boxed: bool
    block: tuple[int, int, int, int]


@dataclass(frozen=True)
class SubtitleFiles:
    count: int
    font: FontChoice
    cues: tuple[PlacedCue, ...] = ()


def _clean(text: str) -> str:
    return " ".join(text.split())


class _Measurer:
    """Text widths in pixels with the font libass will draw with (or an estimate without)."""

    def __init__(self, font: ImageFont.FreeTypeFont | None, size: int):
        self.font, self.size = font, size
        self._cache: dict[str, float] = {}

    def width(self, text: str) -> float:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        if self.font is not None:
            value = float(self.font.getlength(text))
        else:
            value = sum(self.size * (1.0 if is_wide(ch) else 0.6) for ch in text)
        self._cache[text] = value
        return value

    def line_height(self) -> float:
        if self.font is not None:
            ascent, descent = self.font.getmetrics()
            return float(ascent + descent)
        return self.size * 1.2


@functools.lru_cache(maxsize=1)
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def _words(text: str) -> list[str]:
    """Break opportunities: Chinese words (jieba), other words with their trailing space;
    closing punctuation glued to the word before it, opening punctuation to the word after."""
    jieba = _jieba()
    raw: list[str] = []
    for run in re.findall(
        r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|[^\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+",
        text,
    ):
        if is_wide(run[0]):
            words: list[str] = jieba.lcut(run, HMM=True)  # type: ignore[attr-defined]
            for word in words:
                if raw and raw[-1] in _SURNAMES and 1 <= len(word) <= 2 and word.isalpha():
                    raw[-1] += word
                else:
                    raw.append(word)
        else:
            raw.extend(re.findall(r"\s+|[^\s]+", run))
    out: list[str] = []
    pending_open = ""
    for token in raw:
        if token.isspace():
            if out:
                out[-1] += " "
            continue
        # Split leading closers off a token (“好。”: jieba may give "。”" as one token).
        while token and token[0] in _NO_LINE_START and out and not pending_open:
            out[-1] += token[0]
            token = token[1:]
        if not token:
            continue
        if all(ch in _NO_LINE_END for ch in token):
            pending_open += token
            continue
        out.append(pending_open + token)
        pending_open = ""
    if pending_open:
        if out:
            out[-1] += pending_open
        else:
            out.append(pending_open)
    return out


def split_words(text: str) -> list[str]:
    """The words a line breaks between and a karaoke template times: jieba's words for
    Chinese, space-separated words otherwise, punctuation kept with its word."""
    return _words(_clean(text))


# Where a URL or path reads best when cut: right after one of these (`…/long/` | `path/…`).
_TOKEN_SEPARATORS = frozenset("/.-?&=_:#")


def _break_long(word: str, max_width: float, measure: _Measurer) -> list[str]:
    """A word wider than a line, cut between characters into as few pieces as fit, of about
    equal width (never a stub of two letters on its own line). A URL or path is cut right
    after its separators (`/`, `.`, `-`, `?`, `&`, …) where that needs no more pieces, so
    `…/long/pa` | `th/…` becomes `…/long/` | `path/…`."""
    total = measure.width(word.rstrip())
    count = max(1, math.ceil(total / max_width))
    while True:
        pieces = _pieces(word, total / count, max_width, measure)
        if len(pieces) <= count or count > len(word):
            break
        count += 1
    if any(ch in _TOKEN_SEPARATORS for ch in word[1:-1]):
        return _separator_pieces(word, len(pieces), max_width, measure) or pieces
    return pieces


def _pieces(word: str, goal: float, max_width: float, measure: _Measurer) -> list[str]:
    """`word` cut greedily into pieces about `goal` wide (never over `max_width`)."""
    pieces: list[str] = []
    piece = ""
    for ch in word:
        wider = measure.width(piece + ch)
        if piece and (wider > goal * 1.02 or wider > max_width):
            pieces.append(piece)
            piece = ch
        else:
            piece += ch
    if piece:
        pieces.append(piece)
    return pieces


def _separator_pieces(
    word: str, count: int, max_width: float, measure: _Measurer
) -> list[str] | None:
    """`word` in as few pieces as fit (at most `count`), with as many of those cuts as
    possible right after a separator, then as even as possible; pieces under 40 % of the
    mean width are not
    allowed (no stubs). None when no such cutting exists. Dynamic programming over the cut
    positions: O(len(word)²) widths, for the rare token wider than a line."""
    n = len(word)
    goal = measure.width(word.rstrip()) / count
    # best[i][k]: (cuts between letters, squared deviation, previous cut) for word[:i] in k pieces
    best: list[dict[int, tuple[int, float, int]]] = [{} for _ in range(n + 1)]
    best[0][0] = (0, 0.0, -1)
    for i in range(1, n + 1):
        bad_cut = int(i < n and word[i - 1] not in _TOKEN_SEPARATORS)
        for j in range(i - 1, -1, -1):
            width = measure.width(word[j:i].rstrip())
            if width > max_width:
                break
            if width < 0.4 * goal:
                continue
            for k, (bad, dev, _) in best[j].items():
                if k + 1 > count:
                    continue
                option = (bad + bad_cut, dev + (width - goal) ** 2, j)
                if k + 1 not in best[i] or option[:2] < best[i][k + 1][:2]:
                    best[i][k + 1] = option
    if not best[n]:
        return None
    k = min(best[n], key=lambda pieces: (pieces, *best[n][pieces][:2]))
    cuts: list[int] = []
    i = n
    while i > 0:
        cuts.append(i)
        i = best[i][k][2]
        k -= 1
    bounds = [0, *reversed(cuts)]
    return [word[a:b] for a, b in itertools.pairwise(bounds)]


def _wrap_words(words: Sequence[str], max_width: float, measure: _Measurer) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in words:
        if measure.width(word.rstrip()) > max_width:
            # Over-long: start it on a fresh line and cut it so every character is on screen.
            if line.strip():
                lines.append(line.rstrip())
            pieces = _break_long(word, max_width, measure)
            lines.extend(p.rstrip() for p in pieces[:-1])
            line = pieces[-1]
            continue
        candidate = line + word
        if line and measure.width(candidate.rstrip()) > max_width:
            lines.append(line.rstrip())
            line = word
        else:
            line = candidate
    if line.strip():
        lines.append(line.rstrip())
    return lines


def wrap(text: str, max_width: float, measure: _Measurer) -> list[str]:
    """Greedy wrap into lines no wider than `max_width` pixels, breaking between words; a word
    wider than a whole line is cut between characters."""
    return _wrap_words(_words(_clean(text)), max_width, measure)


def _balanced(words: Sequence[str], max_width: float, measure: _Measurer) -> list[str]:
    """Wrap with the narrowest width that needs no more lines than the greedy wrap: two lines
    of similar length instead of a full line and a stub."""
    lines = _wrap_words(words, max_width, measure)
    if len(lines) < 2:
        return lines
    low, high = max_width / len(lines), max_width
    best = lines
    for _ in range(10):
        mid = (low + high) / 2
        trial = _wrap_words(words, mid, measure)
        if len(trial) <= len(lines):
            best, high = trial, mid
        else:
            low = mid
    return best


def _clauses(words: Sequence[str]) -> list[list[str]]:
    clauses: list[list[str]] = [[]]
    for word in words:
        clauses[-1].append(word)
        if word.rstrip().rstrip("”’\"')）」』》").endswith(tuple(_CLAUSE_END)):
            clauses.append([])
    return [c for c in clauses if c]


def _chunks(text: str, max_width: float, measure: _Measurer) -> list[list[str]]:
    """The segment's words packed into cues of at most two lines, cut at clause boundaries
    where possible, between words otherwise."""

    def lines(words: Sequence[str]) -> int:
        return len(_wrap_words(words, max_width, measure))

    words: list[str] = []
    for word in _words(_clean(text)):
        # A word wider than a line becomes pieces that each fit, so every character shows.
        if measure.width(word.rstrip()) > max_width:
            words.extend(_break_long(word, max_width, measure))
        else:
            words.append(word)
    chunks: list[list[str]] = []
    current: list[str] = []
    for clause in _clauses(words):
        if current and lines(current + clause) <= MAX_LINES:
            current = current + clause
            continue
        if current:
            chunks.append(current)
        current = list(clause)
        while (needed := lines(current)) > MAX_LINES:
            # Too long for one cue: cut it into as few cues as it needs, of about equal width
            # (never a full cue and a one-word stub), each within two lines.
            parts = math.ceil(needed / MAX_LINES)
            goal = sum(measure.width(word) for word in current) / parts
            cut, width = 0, 0.0
            for word in current:
                if cut and width + measure.width(word) / 2 > goal:
                    break
                width += measure.width(word)
                cut += 1
            cut = max(1, min(cut, _fit(current, max_width, measure)))
            chunks.append(current[:cut])
            current = current[cut:]
    if current:
        chunks.append(current)
    return chunks


def _fit(words: Sequence[str], max_width: float, measure: _Measurer) -> int:
    """How many leading words fit in two lines (at least the first, even if it must be cut)."""
    count = 0
    for n in range(1, len(words) + 1):
        if len(_wrap_words(words[:n], max_width, measure)) > MAX_LINES:
            break
        count = n
    return count


def spoken_weight(text: str) -> float:
    """How long `text` takes to say, in units of one Chinese character: a CJK character is 1,
    a Latin letter or digit about a third (one syllable ≈ three letters), a pause mark 0.6."""
    weight = 0.0
    for ch in text:
        if is_wide(ch) and ch.isalnum():
            weight += 1.0
        elif ch.isalnum():
            weight += 1.0 / 3.0
        elif ch in _CLAUSE_END:
            weight += _PAUSE_WEIGHT
    return weight


def _color(rgb: tuple[int, int, int], alpha: int = 0) -> pysubs2.Color:
    return pysubs2.Color(rgb[0], rgb[1], rgb[2], alpha)


def escape_ass(line: str, breaker: str = "\u2060") -> str:
    r"""Show braces and backslashes literally instead of as override tags/escapes.

    libass reads `{` as the start of an override block and `\N`, `\n`, `\h` as escapes, and
    accepts `\{` and `\}` as literal braces. A backslash before N, n or h is followed by
    `breaker` (a word joiner, invisible, where the font has one; `write_subtitles` passes a
    full-width reverse solidus replacing the backslash for fonts without it).
    """
    if breaker == "\uff3c":
        line = re.sub(r"\\(?=[Nnh])", "\uff3c", line)
    else:
        line = re.sub(r"\\(?=[Nnh])", lambda _: "\\" + breaker, line)
    return line.replace("{", "\\{").replace("}", "\\}")


def cues_from_segments(
    starts: Sequence[float],
    segments: Sequence[Sequence[object]],
    total: float,
    figures: Sequence[Sequence[FigureBox]] | None = None,
) -> list[Cue]:
    """Global-time cues: one per non-empty segment, clipped to the video, never overlapping.

    `starts[i]` is shot i's start on the video timeline (s); `segments[i]` its speech segments
    (anything with `text`, `start`, `end` relative to the shot); `figures[i]` the character
    boxes of shot i's frame, copied onto its cues. Where a transition overlaps two shots (or
    a shot's segments overlap), a cue ends where the next begins (`_no_overlap`).
    """
    boxes: Sequence[Sequence[FigureBox]] = figures or [() for _ in starts]
    cues: list[Cue] = []
    for shot_start, segs, shot_figures in zip(starts, segments, boxes, strict=True):
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
            cues.append(Cue(start, end, text, tuple(shot_figures)))
    cues.sort(key=lambda c: c.start)
    return _no_overlap(cues)


def _no_overlap(cues: Sequence[Cue], shortest: float = 0.2) -> list[Cue]:
    """Cues (sorted by start) that never show two at once: each ends where the next begins.

    A cue is cut short at the next one's start while it keeps `shortest` seconds; otherwise
    the next one starts later, where this one ends (and ends no earlier than `shortest` after),
    so no sentence is dropped and the order stays the story's.
    """
    out: list[Cue] = []
    for cue in cues:
        if out and cue.start < out[-1].end:
            prev = out[-1]
            if cue.start - prev.start >= shortest:
                out[-1] = replace(prev, end=cue.start)
            else:
                start = prev.end
                cue = replace(cue, start=start, end=max(cue.end, start + shortest))
        out.append(cue)
    return out


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    line_height: float
    outline: float
    style: SubtitleStyle


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def _place(
    lines: Sequence[str], figures: Sequence[FigureBox], frame: _Frame, measure: _Measurer
) -> tuple[int, bool, tuple[int, int, int, int]]:
    """Margin (px), boxed?, text block rectangle for a cue: the default position unless that
    covers a face; then the nearest safe position that does not (body overlap costs a little,
    distance from the default a little less)."""
    w, h, style = frame.width, frame.height, frame.style
    pad = frame.outline + 2
    block_h = len(lines) * frame.line_height + 2 * pad
    block_w = max(measure.width(line) for line in lines) + 2 * pad
    x0, x1 = (w - block_w) / 2, (w + block_w) / 2

    def rect(bottom: float) -> tuple[float, float, float, float]:
        return (x0, bottom - block_h, x1, bottom)

    if style.position == "middle":
        top = (h - block_h) / 2
        return 0, False, (round(x0), round(top), round(x1), round(top + block_h))
    if style.position == "top":
        default_bottom = style.top_margin * h + block_h
    else:
        default_bottom = h * (1 - style.bottom_margin)
    lowest = h * (1 - style.safe_bottom)
    highest = style.top_margin * h * 0.6 + block_h
    candidates = [default_bottom]
    gap = 0.01 * h
    for figure in figures:
        _fx0, fy0, _fx1, fy1 = figure.face
        candidates.append(fy1 * h + gap + block_h)  # just below the chin
        candidates.append(fy0 * h - gap)  # just above the hair
    faces = [(f.face[0] * w, f.face[1] * h, f.face[2] * w, f.face[3] * h) for f in figures]
    bodies = [(f.body[0] * w, f.body[1] * h, f.body[2] * w, f.body[3] * h) for f in figures]

    def cost(bottom: float) -> tuple[float, float]:
        r = rect(bottom)
        face_px = sum(_overlap(r, face) for face in faces)
        body_px = sum(_overlap(r, body) for body in bodies)
        return face_px * 1000 + body_px * 0.05 + abs(bottom - default_bottom) * block_w * 0.02, (
            body_px
        )

    options = [min(lowest, max(highest, c)) for c in candidates]
    best = min(options, key=lambda b: cost(b)[0])
    boxed = cost(best)[1] > 0
    r = rect(best)
    margin = round(h - best) if style.position == "bottom" else round(best - block_h)
    # The block as libass draws it: the outline/box padding sits around the glyph rows.
    return margin, boxed, (round(r[0]), round(r[1]), round(r[2]), round(r[3]))


def _font_for(cues: Sequence[Cue], style: SubtitleStyle, language: str) -> FontChoice:
    text = "".join(c.text for c in cues)
    cjk = language.lower().startswith("zh") or has_cjk(text)
    return find_font(cjk, cjk and wants_traditional(language, text))


def _measurer(font: FontChoice, style: SubtitleStyle, size: int) -> _Measurer:
    pil_font: ImageFont.FreeTypeFont | None = None
    if font.path is not None and style.font_family is None:
        try:
            pil_font = ImageFont.truetype(str(font.path), size, index=font.index)
            if style.bold:
                # A variable font (the bundled Noto CJK) defaults to its thinnest instance;
                # measure the weight libass draws.
                with contextlib.suppress(OSError, ValueError):
                    pil_font.set_variation_by_name("Bold")
        except OSError:
            pil_font = None
    return _Measurer(pil_font, size)


def layout_cues(
    cues: Sequence[Cue],
    *,
    width: int,
    height: int,
    style: SubtitleStyle | None = None,
    font: FontChoice | None = None,
    language: str = "en",
) -> list[PlacedCue]:
    """Readable cues for a `width` x `height` frame (see the module docstring): each input cue
    becomes one or more cues of at most two lines, timed by their share of the spoken text
    and placed clear of the faces in `Cue.figures`."""
    style = style or SubtitleStyle()
    font = font or _font_for(cues, style, language)
    size = style.font_size or max(12, round(height * 0.034))
    side = round(width * style.side_margin)
    measure = _measurer(font, style, size)
    outline = style.outline if style.outline is not None else max(1.0, height / 1280 * 3.0)
    # Room for the outline on both sides, and a margin for libass's synthetic bold.
    max_width = (width - 2 * side) * 0.97 - 2 * outline
    frame = _Frame(width, height, measure.line_height(), outline, style)
    placed: list[PlacedCue] = []
    for cue in cues:
        text = readable(cue.text, font)
        chunks = _chunks(text, max_width, measure)
        if not chunks:
            continue
        weights = [max(0.1, spoken_weight("".join(c))) for c in chunks]
        total = sum(weights)
        # Cumulative share of the spoken text → cue edges inside the segment.
        edges = [cue.start]
        acc = 0.0
        for wgt in weights:
            acc += wgt
            edges.append(cue.start + (cue.end - cue.start) * acc / total)
        for i, chunk in enumerate(chunks):
            lines = tuple(_balanced(chunk, max_width, measure))
            margin, boxed, block = _place(lines, cue.figures, frame, measure)
            placed.append(PlacedCue(edges[i], edges[i + 1], lines, margin, boxed, block))
    placed.sort(key=lambda c: c.start)
    return placed


def _srt_safe(line: str) -> str:
    """Players read `<i>`-like tags and `{\\an8}` in SRT: a zero-width space after `<` or `{`
    when they would open one keeps the text as it reads, and inert."""
    return re.sub(r"(<(?=[/a-zA-Z])|\{(?=\\))", "\\1\u200b", line)


def _escaped(text: str, breaker: str) -> str:
    """`escape_ass` for a piece an override block may follow: a trailing backslash would turn
    the block's `{` into a literal brace, so it gets the breaker (or becomes ＼)."""
    out = escape_ass(text, breaker)
    if out.endswith("\\") and not out.endswith(("\\{", "\\}")):
        out = out[:-1] + "\uff3c" if breaker == "\uff3c" else out + breaker
    return out


def _tokens(line: str, breaker: str) -> list[Token]:
    """A laid-out line as the words a template times (escaped), with their spoken weights."""
    return [
        Token(
            _escaped(word, breaker),
            spoken_weight(word),
            tuple((_escaped(ch, breaker), spoken_weight(ch)) for ch in word),
        )
        for word in _words(line)
    ]


def _events(
    cue: PlacedCue,
    start: int,
    end: int,
    style: SubtitleStyle,
    breaker: str,
    width: int,
    height: int,
) -> list[EffectEvent]:
    """The ASS events of one laid-out cue: the plain text for the classic look (unchanged, so
    segments rendered before templates keep their keys), else the template's effect."""
    if style.template == "classic":
        return [EffectEvent(start, end, "\\N".join(escape_ass(ln, breaker) for ln in cue.lines))]
    events = effect_events(
        style.template,
        [_tokens(line, breaker) for line in cue.lines],
        start_ms=start,
        end_ms=end,
        margin_v=cue.margin_v,
        position=style.position,
        width=width,
        height=height,
    )
    if style.template.startswith("karaoke"):
        # Sung (primary) = the highlight, not yet sung (secondary) = the text colour.
        colours = f"{{\\1c{ass_colour(style.highlight_color)}\\2c{ass_colour(style.color)}}}"
        events = [EffectEvent(e.start, e.end, colours + e.text) for e in events]
    return events


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
    """Lay the cues out (`layout_cues`) and write both files: SRT (plain text) and ASS (styled
    for burning, one event per laid-out cue, with its own vertical margin). Returns the
    number of cues written, the font chosen and the cues as placed."""
    style = style or SubtitleStyle()
    font = _font_for(cues, style, language)
    family = style.font_family or font.family
    size = style.font_size or max(12, round(height * 0.034))
    side = round(width * style.side_margin)
    outline = style.outline if style.outline is not None else max(1.0, height / 1280 * 3.0)
    placed = layout_cues(
        cues, width=width, height=height, style=style, font=font, language=language
    )

    ass = pysubs2.SSAFile()
    ass.info.update(
        {
            "PlayResX": str(width),
            "PlayResY": str(height),
            # Lines are broken here; libass must not re-wrap them.
            "WrapStyle": "2",
            "ScaledBorderAndShadow": "yes",
            "YCbCr Matrix": "TV.709",
        }
    )
    base = pysubs2.SSAStyle(
        fontname=family,
        fontsize=size,
        primarycolor=_color(style.color),
        secondarycolor=_color(style.color),
        outlinecolor=_color(style.outline_color),
        backcolor=_color((0, 0, 0), 128),
        bold=style.bold,
        outline=outline,
        # No drop shadow: the outline already separates text from the picture, and each extra
        # libass layer is another blend per glyph per frame.
        shadow=0.0,
        alignment=_ALIGNMENT[style.position],
        marginl=side,
        marginr=side,
        marginv=round(
            height * (style.top_margin if style.position == "top" else style.bottom_margin)
        ),
    )
    ass.styles["Default"] = base
    boxed = base.copy()
    boxed.borderstyle = 3  # an opaque box in the outline colour, here translucent black
    boxed.outlinecolor = _color((0, 0, 0), 96)
    boxed.outline = max(outline, size * 0.18)
    ass.styles[_BOX_STYLE] = boxed
    covered = coverage(font.path, font.index) if font.path is not None else frozenset()
    breaker = "\u2060" if 0x2060 in covered or not covered else "\uff3c"
    subtitles: list[srt.Subtitle] = []
    if style.template == "boxed":
        boxed.outlinecolor = _color(style.box_color, 64)
        boxed.outline = max(outline, size * 0.25)
    for index, cue in enumerate(placed, start=1):
        start, end = round(cue.start * 1000), round(cue.end * 1000)
        for event in _events(cue, start, end, style, breaker, width, height):
            ass.events.append(
                pysubs2.SSAEvent(
                    start=event.start,
                    end=event.end,
                    text=event.text,
                    style=_BOX_STYLE if cue.boxed or style.template == "boxed" else "Default",
                    marginv=cue.margin_v,
                )
            )
        subtitles.append(
            srt.Subtitle(
                index,
                timedelta(milliseconds=start),
                timedelta(milliseconds=end),
                "\n".join(_srt_safe(line) for line in cue.lines),
            )
        )
    ass.save(str(ass_path), format_="ass")
    Path(srt_path).write_text(srt.compose(subtitles, reindex=False), encoding="utf-8")
    return SubtitleFiles(count=len(placed), font=font, cues=tuple(placed))
