"""Dynamic subtitle templates (issue 12): the ASS each template writes, read back with pysubs2.

Each template's effect is checked in the tags the one subtitle writer (`write_subtitles`)
emits: karaoke timing adds up to the cue and follows the spoken weight of its words, Chinese
words stay whole (jieba), a bounce is contiguous events with `\\move` ending where the line
rests, the typewriter reveals every character once in spoken order, the boxed style is
BorderStyle 3, and text stays data under every template. What libass draws from them is
checked in tests/test_dynamic_subtitles_e2e.py (frames of a burned video).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import av
import numpy as np
import pysubs2
import pytest
from PIL import Image

from storyreel_core.drama_models import SpeechSegment
from storyreel_core.errors import ValidationFailed
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_core.subtitle_templates import TEMPLATE_IDS, check_template
from storyreel_video.dynamic_subtitles import parse_srt
from storyreel_video.segmented_cut import LocalSegments, compose_segmented_cut
from storyreel_video.specs import ClipSpec
from storyreel_video.subtitle_previews import COMMITTED, PreviewCache, render_preview
from storyreel_video.subtitles import Cue, SubtitleStyle, write_subtitles

W, H = 360, 640


def ass_for(tmp_path: Path, template: str, cues: list[Cue], **style: object) -> pysubs2.SSAFile:
    write_subtitles(
        cues,
        srt_path=tmp_path / f"{template}.srt",
        ass_path=tmp_path / f"{template}.ass",
        width=W,
        height=H,
        style=SubtitleStyle(template=template, **style),  # type: ignore[arg-type]
    )
    return pysubs2.load(str(tmp_path / f"{template}.ass"))


def raw_text(event: pysubs2.SSAEvent) -> str:
    return re.sub(r"\{[^}]*\}", "", event.text.replace("\\{", "").replace("\\}", ""))


def test_every_template_writes_the_text_and_the_srt_is_plain(tmp_path: Path) -> None:
    cue = Cue(1.0, 3.0, "Every word lights up")
    for template in TEMPLATE_IDS:
        ass = ass_for(tmp_path, template, [cue])
        assert ass.events, template
        for event in ass.events:
            assert raw_text(event).replace("\\N", " ") == "Every word lights up", template
        assert ass.events[0].start == 1000 and ass.events[-1].end == 3000, template
        srt_text = (tmp_path / f"{template}.srt").read_text()
        assert "Every word lights up" in srt_text and "\\" not in srt_text, template


def test_classic_has_no_tags(tmp_path: Path) -> None:
    (event,) = ass_for(tmp_path, "classic", [Cue(0, 2, "Plain words here")]).events
    assert event.text == "Plain words here"


def test_karaoke_times_each_word_by_its_spoken_weight(tmp_path: Path) -> None:
    cue = Cue(0.5, 2.5, "I understand everything")
    (event,) = ass_for(tmp_path, "karaoke", [cue], highlight_color=(255, 0, 0)).events
    # Sung = the highlight (red → &H0000FF& in BGR), not yet sung = the text colour.
    assert event.text.startswith("{\\1c&H0000FF&\\2c&HFFFFFF&}")
    parts = re.findall(r"\{\\k(\d+)\}([^{]*)", event.text)
    assert [w.strip() for _, w in parts] == ["I", "understand", "everything"]
    durations = [int(d) for d, _ in parts]
    assert sum(durations) == 200  # the cue's 2 s in centiseconds, nothing lost to rounding
    # "understand" (10 letters) takes longer than "I" (1 letter).
    assert durations[1] > 3 * durations[0]


def test_karaoke_sweep_uses_kf_and_chinese_words_stay_whole(tmp_path: Path) -> None:
    (event,) = ass_for(tmp_path, "karaoke_sweep", [Cue(0, 3, "小禾提着灯笼赴京寻找爷爷。")]).events
    words = [w for _, w in re.findall(r"\{\\kf(\d+)\}([^{]*)", event.text)]
    assert "灯笼" in words and "灯" not in words
    assert "".join(words) == "小禾提着灯笼赴京寻找爷爷。"
    assert "\\k" not in event.text.replace("\\kf", "")


def test_karaoke_spans_both_lines_of_a_cue(tmp_path: Path) -> None:
    text = "a long sentence that must wrap onto a second line to fit the narrow frame"
    events = ass_for(tmp_path, "karaoke", [Cue(0, 4, text)]).events
    assert any("\\N" in e.text for e in events)
    for event in events:  # each laid-out cue's words share that cue's time exactly
        total = sum(int(d) for d in re.findall(r"\\k(\d+)", event.text))
        assert abs(total - round(event.end / 10) + round(event.start / 10)) <= 1


def test_pop_in_scales_up_then_settles(tmp_path: Path) -> None:
    (event,) = ass_for(tmp_path, "pop_in", [Cue(0, 2, "Pop")]).events
    assert event.text.startswith("{\\fscx40\\fscy40\\t(0,120,\\fscx112\\fscy112)")
    assert "\\t(120,220,\\fscx100\\fscy100)" in event.text


def test_bounce_is_contiguous_flights_that_rest_at_the_margin(tmp_path: Path) -> None:
    events = ass_for(tmp_path, "bounce", [Cue(1, 3, "Boing")]).events
    assert len(events) == 5
    for before, after in itertools.pairwise(events):
        assert before.end == after.start
    moves = [
        tuple(map(int, re.search(r"\\move\(([-\d,]+)\)", e.text)[1].split(","))) for e in events
    ]  # type: ignore[index]
    rest = moves[-1][3]
    assert moves[0][1] < rest  # falls from above
    assert all(m[0] == W // 2 for m in moves)
    assert moves[1][3] < rest and moves[3][3] < rest  # two bounces up
    assert moves[1][3] < moves[3][3]  # the second lower than the first
    assert rest == H - events[-1].marginv  # where the bottom margin would put it


def test_typewriter_reveals_each_character_in_order(tmp_path: Path) -> None:
    (event,) = ass_for(tmp_path, "typewriter", [Cue(0, 2, "Type it")]).events
    reveals = re.findall(r"\{\\alpha&HFF&\\t\((\d+),(\d+),\\alpha&H00&\)\}([^{]*)", event.text)
    assert "".join(ch for *_, ch in reveals) == "Type it"
    times = [int(t0) for t0, _, _ in reveals]
    assert times == sorted(times) and times[0] == 0 and times[-1] < 2000


def test_boxed_draws_an_opaque_box(tmp_path: Path) -> None:
    ass = ass_for(tmp_path, "boxed", [Cue(0, 2, "In a box")], box_color=(20, 40, 200))
    (event,) = ass.events
    style = ass.styles[event.style]
    assert style.borderstyle == 3
    assert (style.outlinecolor.r, style.outlinecolor.g, style.outlinecolor.b) == (20, 40, 200)


def test_fade_slide_fades_and_slides_up(tmp_path: Path) -> None:
    (event,) = ass_for(tmp_path, "fade_slide", [Cue(0, 2, "Slide")]).events
    fade = re.search(r"\\fad\((\d+),(\d+)\)", event.text)
    move = re.search(r"\\move\((\d+),(\d+),(\d+),(\d+),0,(\d+)\)", event.text)
    assert fade and move
    assert int(move[2]) > int(move[4])  # starts lower, ends at rest


@pytest.mark.parametrize("template", TEMPLATE_IDS)
def test_markup_in_the_text_stays_text(tmp_path: Path, template: str) -> None:
    ass = ass_for(tmp_path, template, [Cue(0, 2, "a {\\b1} b\\")])
    for event in ass.events:
        # Every brace of the text is escaped; only the template's own blocks open one.
        assert "{\\b1}" not in event.text
        assert "\\{\\b1\\}" in event.text or "\\{" in event.text


def test_check_template_names_every_id() -> None:
    assert check_template(" karaoke ") == "karaoke"
    assert check_template("") is None
    with pytest.raises(ValidationFailed) as err:
        check_template("sparkles", "options.subtitle_template")
    assert err.value.field == "options.subtitle_template"
    assert all(t in str(err.value) for t in TEMPLATE_IDS)


def test_parse_srt_reads_cues_and_refuses_bad_input() -> None:
    lines = parse_srt("1\n00:00:01,000 --> 00:00:02,500\nHello <i>there</i>\n\n")
    assert [(x.start, x.end, x.text) for x in lines] == [(1.0, 2.5, "Hello <i>there</i>")]
    for bad in ("not an srt", "1\n00:00:03,000 --> 00:00:01,000\nbackwards\n"):
        with pytest.raises(ValidationFailed) as err:
            parse_srt(bad)
        assert err.value.field == "srt"


async def test_the_final_cut_burns_a_template_timed_by_the_speech(tmp_path: Path) -> None:
    """The segmented final cut (the pipeline's and the studio's) with `karaoke`: the speech
    segment's words light up in turn in the burned frames (the highlight spreads with time)."""
    w, h, fps = 240, 426, 12
    still = tmp_path / "grey.png"
    Image.new("RGB", (w, h), (80, 80, 80)).save(still)
    objects = FolderObjectStore(tmp_path / "objects")
    await objects.put_file("frames/0.png", still, "image/png")
    segment = SpeechSegment(speaker="narrator", text="red green blue", start=0.4, end=1.6)
    cut = await compose_segmented_cut(
        [ClipSpec(still, 2.0, "static", None, [segment])],
        ["frames/0.png"],
        tmp_path / "out",
        runner=LocalSegments(objects),
        owner_id="user_1",
        parent_id=None,
        width=w,
        height=h,
        fps=fps,
        music=False,
        subtitle_style=SubtitleStyle(template="karaoke"),
    )
    assert "{\\k" in cut.cut.ass_path.read_text()
    counts = {}
    with av.open(str(cut.cut.video_path)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24").astype(np.int16)
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            counts[round(float(frame.time or 0) * fps)] = int(
                ((r > 180) & (g > 150) & (b < 110)).sum()
            )
    before, first, last = counts[2], counts[7], counts[18]  # 0.17 s, 0.58 s, 1.5 s
    assert before == 0 and 0 < first < last


def _yellow_pixels(path: Path) -> int:
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(np.int16)
    return int(((rgb[..., 0] > 180) & (rgb[..., 1] > 150) & (rgb[..., 2] < 110)).sum())


async def test_previews_are_committed_drawn_by_libass_and_cached(tmp_path: Path) -> None:
    for template in TEMPLATE_IDS:
        with Image.open(COMMITTED / f"{template}.png") as image:
            assert image.size == (360, 640), template
    # What `python -m storyreel_video.subtitle_previews` draws: karaoke half lit.
    drawn = await render_preview("karaoke", tmp_path / "karaoke.png")
    assert _yellow_pixels(drawn) > 50 and _yellow_pixels(COMMITTED / "karaoke.png") > 50
    assert _yellow_pixels(COMMITTED / "classic.png") == 0
    objects = FolderObjectStore(tmp_path / "objects")
    keys = await PreviewCache(objects).keys()
    assert list(keys) == list(TEMPLATE_IDS)
    for template, key in keys.items():
        assert key.startswith(f"cache/subtitle-previews/{template}-")
        assert await objects.get_bytes(key) == (COMMITTED / f"{template}.png").read_bytes()
