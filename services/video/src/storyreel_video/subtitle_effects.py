"""Dynamic subtitle templates drawn as ASS override tags, which libass animates at burn time.

`write_subtitles` lays a cue out (lines, margin, box) exactly as for plain subtitles and hands
each laid-out cue here with its words already escaped and weighted; this module only adds the
effect of the chosen template (ids in `storyreel_core.subtitle_templates`):

- `classic`: the text as it is (no tags).
- `karaoke`: `{\\kN}` before each word, N its share of the cue in centiseconds; the style's
  SecondaryColour (the text colour) shows until the word's time, PrimaryColour (the highlight)
  from then on (ASS v4+ karaoke, as libass implements it).
- `karaoke_sweep`: the same with `{\\kfN}`: the highlight fills each word left to right over
  its own time.
- `pop_in`: `{\\fscx40\\fscy40\\t(0,120,\\fscx112\\fscy112)\\t(120,220,\\fscx100\\fscy100)}`.
- `bounce`: the line falls from above and bounces twice; one `\\move` per flight, so one ASS
  event per flight (contiguous in time, the last lasting to the cue's end).
- `typewriter`: every character hidden (`\\alpha&HFF&`) until its spoken time, then shown
  (`\\t(t,t+1,\\alpha&H00&)`); the line is laid out whole, so nothing shifts as it types.
- `boxed`: no tags; the caller uses a BorderStyle 3 style (an opaque box behind the text).
- `fade_slide`: `{\\fad(200,150)\\move(x,y+d,x,y,0,220)}`: fades in sliding up, fades out.

Word timing: a laid-out cue's time is already the time its words are spoken (the speech
stage's segment times, shared among a segment's cues by spoken weight — `layout_cues`); within
a cue each word (a jieba word for Chinese, a space-separated word otherwise) gets the cue's
time in proportion to its spoken weight (`subtitles.spoken_weight`: a CJK character 1, a Latin
letter ⅓, a pause mark 0.6), and each character within a word likewise for the typewriter.
No per-word timestamps exist upstream (the TTS engines report segment times only), so this is
an estimate inside a segment, exact at segment edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Position = Literal["bottom", "middle", "top"]
MIN_WEIGHT = 0.05  # a token that says nothing (a quote mark) still gets a sliver of time


@dataclass(frozen=True)
class Token:
    """A word as written to the ASS (already escaped) and how long it takes to say."""

    text: str
    weight: float
    chars: tuple[tuple[str, float], ...] = ()  # (escaped character(s), weight), typewriter


@dataclass(frozen=True)
class EffectEvent:
    """One ASS event of a cue: its time (ms, video time) and its text with tags."""

    start: int
    end: int
    text: str


def ass_colour(rgb: tuple[int, int, int]) -> str:
    """An inline ASS colour `&HBBGGRR&` (opacity is `\\alpha`'s, not part of it)."""
    return f"&H{rgb[2]:02X}{rgb[1]:02X}{rgb[0]:02X}&"


def _shares(weights: Sequence[float], total_cs: int) -> list[int]:
    """`total_cs` centiseconds shared by weight, rounded on the running sum so they add up."""
    clipped = [max(MIN_WEIGHT, w) for w in weights]
    whole = sum(clipped) or 1.0
    out, acc, given = [], 0.0, 0
    for w in clipped:
        acc += w
        edge = round(total_cs * acc / whole)
        out.append(edge - given)
        given = edge
    return out


def _karaoke(lines: Sequence[Sequence[Token]], duration_ms: int, tag: str) -> str:
    tokens = [t for line in lines for t in line]
    shares = iter(_shares([t.weight for t in tokens], duration_ms // 10))
    return "\\N".join("".join(f"{{\\{tag}{next(shares)}}}{t.text}" for t in line) for line in lines)


def _typewriter(lines: Sequence[Sequence[Token]], duration_ms: int) -> str:
    chars = [c for line in lines for t in line for c in (t.chars or ((t.text, t.weight),))]
    # Characters appear while they are spoken: character i shows from the start of its share.
    shares = _shares([w for _, w in chars], duration_ms)
    starts, acc = [], 0
    for share in shares:
        starts.append(acc)
        acc += share
    at = iter(starts)
    out = []
    for line in lines:
        parts = []
        for t in line:
            for text, _ in t.chars or ((t.text, t.weight),):
                ms = next(at)
                parts.append(f"{{\\alpha&HFF&\\t({ms},{ms + 1},\\alpha&H00&)}}{text}")
        out.append("".join(parts))
    return "\\N".join(out)


def anchor(position: Position, margin_v: int, width: int, height: int) -> tuple[int, int]:
    """Where `\\pos` puts a cue for it to sit where its margin would: the bottom-centre point
    of the block for `bottom`, top-centre for `top`, the centre for `middle` (the style's
    alignment decides which point of the block `\\pos` names)."""
    x = width // 2
    if position == "bottom":
        return x, height - margin_v
    if position == "top":
        return x, margin_v
    return x, height // 2


# (duration ms, height at the start, height at the end) of each flight, as fractions of the
# frame height above the resting place: a fall, then two bounces of decreasing height.
_BOUNCE = ((220, 0.09, 0.0), (90, 0.0, 0.03), (90, 0.03, 0.0), (60, 0.0, 0.01), (60, 0.01, 0.0))


def effect_events(
    template: str,
    lines: Sequence[Sequence[Token]],
    *,
    start_ms: int,
    end_ms: int,
    margin_v: int,
    position: Position,
    width: int,
    height: int,
) -> list[EffectEvent]:
    """The ASS events that draw one laid-out cue (`lines` of tokens, shown from `start_ms` to
    `end_ms`) with `template`'s effect. Raises `ValueError` for an unknown template id."""
    duration = max(1, end_ms - start_ms)
    plain = "\\N".join("".join(t.text for t in line) for line in lines)
    if template in ("classic", "boxed"):
        return [EffectEvent(start_ms, end_ms, plain)]
    if template == "karaoke":
        return [EffectEvent(start_ms, end_ms, _karaoke(lines, duration, "k"))]
    if template == "karaoke_sweep":
        return [EffectEvent(start_ms, end_ms, _karaoke(lines, duration, "kf"))]
    if template == "typewriter":
        return [EffectEvent(start_ms, end_ms, _typewriter(lines, duration))]
    if template == "pop_in":
        tags = "{\\fscx40\\fscy40\\t(0,120,\\fscx112\\fscy112)\\t(120,220,\\fscx100\\fscy100)}"
        return [EffectEvent(start_ms, end_ms, tags + plain)]
    x, y = anchor(position, margin_v, width, height)
    if template == "fade_slide":
        rise = round(height * 0.03)
        fade_out = min(150, duration // 4)
        tags = f"{{\\fad(200,{fade_out})\\move({x},{y + rise},{x},{y},0,220)}}"
        return [EffectEvent(start_ms, end_ms, tags + plain)]
    if template == "bounce":
        events: list[EffectEvent] = []
        at = start_ms
        for n, (ms, above0, above1) in enumerate(_BOUNCE):
            last = n == len(_BOUNCE) - 1 or at + ms >= end_ms
            stop = end_ms if last else at + ms
            y0, y1 = y - round(height * above0), y - round(height * above1)
            events.append(EffectEvent(at, stop, f"{{\\move({x},{y0},{x},{y1},0,{ms})}}{plain}"))
            if last:
                break
            at = stop
        return events
    raise ValueError(f"unknown subtitle template {template!r}")
