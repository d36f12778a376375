"""Subtitles a viewer can read: the inputs of issue 13, each with the value it must have.

Layout checks read the cues as laid out; pixel checks burn the ASS file with the renderer's
own ffmpeg + libass onto a black frame (`subtitle_pixels`) and look at what was drawn.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pysubs2
import pytest
import srt as srt_lib
from PIL import Image, ImageDraw, ImageFont

from storyreel_core.drama_models import FigureBox
from storyreel_video.fonts import find_font, readable
from storyreel_video.subtitle_pixels import subtitle_mask
from storyreel_video.subtitles import Cue, PlacedCue, layout_cues, write_subtitles

LONG_ZH = (
    "林小雨在钟楼下等了三个小时，终于看见哥哥林大山从人群里走出来，手里还攥着那封写给母亲却"
    "始终没有寄出的信，她一下子就明白了他这些年的秘密。"
)
LANTERN = "小禾提着灯笼赴京寻找爷爷，一路上遇见了许多人，也听说了许多事。"
WIDE_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis"
URL = "https://example.com/a/very/long/path/that/goes/on/and/on?query=storyreel&page=2"
SIZES = [(360, 640), (720, 1280), (1080, 1080), (1280, 720)]


def joined(cues: list[PlacedCue]) -> str:
    return "".join("".join(c.lines) for c in cues)


def write(tmp_path: Path, cues: list[Cue], w: int, h: int, language: str = "en") -> Path:
    files = write_subtitles(
        cues,
        srt_path=tmp_path / "s.srt",
        ass_path=tmp_path / "s.ass",
        width=w,
        height=h,
        language=language,
    )
    assert files.count >= 1
    return tmp_path / "s.ass"


@pytest.mark.parametrize(("w", "h"), SIZES)
def test_a_long_sentence_is_whole_in_two_line_cues_timed_by_its_words(w: int, h: int) -> None:
    cues = layout_cues([Cue(2.0, 15.0, LONG_ZH)], width=w, height=h, language="zh")
    assert max(len(c.lines) for c in cues) <= 2
    assert joined(cues) == LONG_ZH  # nothing lost, nothing reordered
    assert cues[0].start == 2.0 and cues[-1].end == pytest.approx(15.0)
    for a, b in itertools.pairwise(cues):
        assert a.end == pytest.approx(b.start)
    # Each cue lasts in proportion to what it says (±15% of the share by characters).
    for c in cues:
        share = len("".join(c.lines)) / len(LONG_ZH)
        assert (c.end - c.start) / 13.0 == pytest.approx(share, rel=0.15)
    if len(cues) > 1:  # cut at clause boundaries: every cue but the last ends with a comma
        assert all("".join(c.lines).endswith("，") for c in cues[:-1])


@pytest.mark.parametrize(("w", "h"), [(360, 640), (540, 960), (720, 1280)])
def test_chinese_lines_break_between_words(w: int, h: int) -> None:
    cues = layout_cues([Cue(0, 6, LANTERN * 2)], width=w, height=h, language="zh")
    lines = [line for c in cues for line in c.lines]
    assert "".join(lines) == LANTERN * 2
    for a, b in itertools.pairwise(lines):
        for word in ("灯笼", "赴京", "寻找", "爷爷", "一路上", "遇见", "许多"):
            for cut in range(1, len(word)):
                assert not (a.endswith(word[:cut]) and b.startswith(word[cut:])), (a, b)
    assert not any(line.startswith(("，", "。")) for line in lines)


@pytest.mark.parametrize(("w", "h"), SIZES)
def test_over_wide_tokens_are_broken_so_every_character_is_on_screen(
    tmp_path: Path, w: int, h: int
) -> None:
    text = f"Look: {WIDE_WORD} at {URL} now."
    ass = write(tmp_path, [Cue(0.0, 6.0, text)], w, h)
    srt = (tmp_path / "s.srt").read_text(encoding="utf-8")
    said = "".join("".join(c.content.split()) for c in srt_lib.parse(srt))
    assert said == "".join(text.split())  # every character, in order
    events = pysubs2.load(str(ass))
    assert all(e.text.count("\\N") <= 1 for e in events)
    font = find_font(False)
    drawn = 0
    for event in events:
        mask = subtitle_mask(ass, font, w, h, (event.start + event.end) / 2000)
        drawn += int(mask.sum())
        # The outermost columns stay free of text: nothing runs off either edge.
        assert not mask[:, :3].any() and not mask[:, -3:].any()
    assert drawn > 0


@pytest.mark.parametrize(("w", "h"), SIZES)
def test_a_long_url_is_cut_after_its_separators(w: int, h: int) -> None:
    cues = layout_cues([Cue(0.0, 6.0, f"It is at {URL} now.")], width=w, height=h, language="en")
    lines = [line for c in cues for line in c.lines]
    assert "".join("".join(lines).split()) == "".join(f"It is at {URL} now.".split())
    # Each cut inside the URL comes right after a separator: `…/long/` | `path/…`.
    url_cuts = [a for a, b in itertools.pairwise(lines) if (a.split()[-1] + b.split()[0]) in URL]
    assert url_cuts and all(a[-1] in "/.-?&=_:#" for a in url_cuts), lines


def test_subtitle_text_is_data_in_ass_and_srt(tmp_path: Path) -> None:
    text = "He typed {\\fs200\\c&H0000FF&} and a\\Nb then <i>x</i> {\\an8}"
    ass = write(tmp_path, [Cue(0.0, 3.0, text)], 720, 1280)
    srt = (tmp_path / "s.srt").read_text(encoding="utf-8")
    body = " ".join(c.content.replace("\n", " ") for c in srt_lib.parse(srt)).replace("\u200b", "")
    assert body == text  # SRT: the text itself; tag openers only get a zero-width space
    assert "<\u200bi>" in srt and "{\u200b\\an8}" in srt
    events = " ".join(e.text for e in pysubs2.load(str(ass)))
    assert "\\{\\fs200" in events and "\\c&H0000FF&\\}" in events
    # libass draws the braces: the text keeps its size (an applied \fs200 would be ~5x taller).
    mask = subtitle_mask(ass, find_font(False), 720, 1280, 1.5)
    rows = np.flatnonzero(mask.any(axis=1))
    assert 0 < rows[-1] - rows[0] < 4 * 44


def test_missing_glyphs_become_readable_text() -> None:
    font = find_font(True)
    assert readable("他笑了😀", font) == "他笑了[grinning face]"
    assert readable("a\u200db\ufe0f", font) == "ab"
    cues = layout_cues([Cue(0, 2, "好😀")], width=720, height=1280, language="zh")
    assert joined(cues) == "好[grinning face]"


def _ink(ch: str, font: ImageFont.FreeTypeFont, size: int) -> np.ndarray:
    image = Image.new("L", (size * 2, size * 2))
    ImageDraw.Draw(image).text((size, size), ch, font=font, fill=255, anchor="mm")
    return np.asarray(image) > 100


def test_chinese_uses_the_simplified_face_and_traditional_the_tc_face(tmp_path: Path) -> None:
    sc, tc = find_font(True), find_font(True, traditional=True)
    assert sc.family.endswith("SC") and tc.family.endswith("TC")
    files = write_subtitles(
        [Cue(0, 2, "骨直")],
        srt_path=tmp_path / "a.srt",
        ass_path=tmp_path / "a.ass",
        width=720,
        height=1280,
        language="zh",
    )
    assert files.font.family.endswith("SC")
    assert pysubs2.load(str(tmp_path / "a.ass")).styles["Default"].fontname == files.font.family
    traditional = write_subtitles(
        [Cue(0, 2, "我們聽說這裡的風景很美麗。")],
        srt_path=tmp_path / "b.srt",
        ass_path=tmp_path / "b.ass",
        width=720,
        height=1280,
        language="zh",
    )
    assert traditional.font.family.endswith("TC")
    # What libass drew for 骨 matches the SC glyph better than the Japanese one.
    assert sc.path is not None
    size = 200
    cue = [Cue(0, 2, "骨")]
    (tmp_path / "g.ass").unlink(missing_ok=True)
    write_subtitles(cue, srt_path=tmp_path / "g.srt", ass_path=tmp_path / "g.ass",
                    width=600, height=600, language="zh")  # fmt: skip
    doc = pysubs2.load(str(tmp_path / "g.ass"))
    doc.styles["Default"].fontsize = size
    doc.styles["Default"].bold = False
    doc.styles["Default"].outline = 0
    doc.save(str(tmp_path / "g.ass"))
    drawn = subtitle_mask(tmp_path / "g.ass", sc, 600, 600, 1.0, threshold=100)
    ys, xs = np.nonzero(drawn)
    glyph = drawn[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]

    def similarity(index: int) -> float:
        face = ImageFont.truetype(str(sc.path), size, index=index)
        ink = _ink("骨", face, size)
        yy, xx = np.nonzero(ink)
        ref = ink[yy.min() : yy.max() + 1, xx.min() : xx.max() + 1]
        ref_img = Image.fromarray(ref.astype(np.uint8) * 255).resize(glyph.shape[::-1])
        ref_mask = np.asarray(ref_img) > 127
        return float((ref_mask & glyph).sum() / max(1, (ref_mask | glyph).sum()))

    jp_index = next(i for i in range(5) if ImageFont.truetype(str(sc.path), 12, index=i)
                    .getname()[0].endswith("JP"))  # fmt: skip
    assert similarity(sc.index) > similarity(jp_index)


def test_cues_keep_off_faces_and_close_up_chins(tmp_path: Path) -> None:
    w, h = 720, 1280
    # A close-up: the head fills the lower middle, the chin at 86% of the height.
    close_up = FigureBox(character_id="c", face=(0.25, 0.5, 0.75, 0.86), body=(0, 0.45, 1, 1))
    two = [
        FigureBox(character_id="a", face=(0.1, 0.7, 0.35, 0.84), body=(0.05, 0.68, 0.4, 1)),
        FigureBox(character_id="b", face=(0.6, 0.72, 0.85, 0.86), body=(0.55, 0.7, 0.9, 1)),
    ]
    free = layout_cues([Cue(0, 3, LONG_ZH[:20])], width=w, height=h, language="zh")
    assert free[0].margin_v == round(0.13 * h) and not free[0].boxed
    for figures in ([close_up], two):
        cues = [Cue(0, 3, LONG_ZH[:20], tuple(figures))]
        placed = layout_cues(cues, width=w, height=h, language="zh")
        ass = write(tmp_path, cues, w, h, "zh")
        mask = subtitle_mask(ass, find_font(True), w, h, 1.0)
        assert mask.any()
        for figure in figures:
            x0, y0, x1, y1 = figure.face
            face = mask[round(y0 * h) : round(y1 * h), round(x0 * w) : round(x1 * w)]
            assert not face.any(), (figure, placed)
