"""Unit tests of the pieces: timeline maths, transitions, subtitles, audio, the ffmpeg runner."""

from __future__ import annotations

import itertools
import math
import os
import threading
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pysubs2
import pytest
from PIL import ImageFont

from storyreel_core.cpu_priority import set_work_nice
from storyreel_core.drama_models import SpeechSegment
from storyreel_video import RenderFailed
from storyreel_video.audio_mix import RATE, mix_soundtrack, read_wav, resample
from storyreel_video.ffmpeg_runner import run_ffmpeg
from storyreel_video.fonts import find_font, has_cjk
from storyreel_video.interpolation import upsample_linear
from storyreel_video.loudness import _k_impulse, _k_response, integrated_loudness, limit
from storyreel_video.subtitles import (
    Cue,
    _Measurer,
    cues_from_segments,
    escape_ass,
    wrap,
    write_subtitles,
)
from storyreel_video.timeline import Timeline, effective_transition
from storyreel_video.transitions import blend
from storyreel_video.yuv import YuvFrame, rgb_to_yuv420, yuv420_to_rgb


def test_timeline_overlaps_and_slots() -> None:
    tl = Timeline.build([2.0, 3.0, 1.0], 0.5, 10)
    assert tl.starts == (0.0, 1.5, 4.0)
    assert tl.total == pytest.approx(6.0 - 2 * 0.5)
    assert tl.frame_count == 50
    assert tl.slot(0).shot == 0 and tl.slot(0).incoming is None
    mid = tl.slot(17)  # t = 1.7: inside the 1.5-2.0 overlap
    assert (mid.shot, mid.incoming) == (0, 1) and 0 < mid.alpha < 1
    assert tl.slot(25).shot == 1 and tl.slot(25).incoming is None
    assert tl.slot(49).shot == 2
    alphas = [tl.slot(k).alpha for k in range(15, 20)]
    assert alphas == sorted(alphas)


def test_effective_transition_is_clamped() -> None:
    assert effective_transition([4, 4], 0.5, "none") == 0
    assert effective_transition([4], 0.5, "crossfade") == 0
    assert effective_transition([1.0, 0.4], 0.5, "crossfade") == pytest.approx(0.18)
    with pytest.raises(ValueError):
        Timeline.build([], 0.0, 24)


def _flat(y: int, u: int, v: int) -> YuvFrame:
    return YuvFrame(
        np.full((8, 12), y, np.uint8), np.full((4, 6), u, np.uint8), np.full((4, 6), v, np.uint8)
    )


@pytest.mark.parametrize(
    "kind", ["crossfade", "fade", "wipeleft", "wiperight", "slideup", "dissolve"]
)
def test_transitions_run_from_a_to_b(kind: str) -> None:
    a, b = _flat(50, 100, 150), _flat(200, 60, 90)
    start, end = blend(a, b, 0.0, kind), blend(a, b, 1.0, kind)  # type: ignore[arg-type]
    assert np.array_equal(start.y, a.y) and np.array_equal(end.y, b.y)
    mid = blend(a, b, 0.5, kind)  # type: ignore[arg-type]
    assert mid.y.shape == a.y.shape and mid.u.shape == a.u.shape
    if kind == "crossfade":
        assert int(mid.y[0, 0]) == 125
    if kind == "fade":
        assert int(mid.y[0, 0]) == 16  # black at the midpoint


def test_yuv_round_trip() -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[..., 1] = 40
    rgb[..., 2] = 90
    y, u, v = rgb_to_yuv420(rgb)
    back = yuv420_to_rgb(YuvFrame(y, u, v))
    assert np.abs(back.astype(int) - rgb.astype(int)).max() <= 2
    white = rgb_to_yuv420(np.full((2, 2, 3), 255, np.uint8))
    assert (int(white[0][0, 0]), int(white[1][0, 0]), int(white[2][0, 0])) == (235, 128, 128)


def test_wrap_latin_and_cjk() -> None:
    m = _Measurer(None, 40)
    lines = wrap("The quick brown fox jumps over the lazy dog again and again", 400, m)
    assert len(lines) > 1 and all(m.width(ln) <= 400 for ln in lines)
    assert " ".join(lines) == "The quick brown fox jumps over the lazy dog again and again"
    cjk = wrap("夜深了，她终于推开了那扇尘封已久的门。", 300, m)
    assert "".join(cjk) == "夜深了，她终于推开了那扇尘封已久的门。"
    assert all(not ln.startswith(("，", "。")) for ln in cjk)
    assert all(m.width(ln) <= 300 + 40 for ln in cjk)  # punctuation may hang by one char


def test_escape_ass() -> None:
    assert escape_ass("a {b} c\\N", "\uff3c") == "a \\{b\\} c＼N"
    assert escape_ass("a\\N") == "a\\\u2060N"


def test_cues_global_times(tmp_path: Path) -> None:
    segs = [
        [SpeechSegment(speaker="n", text="one", start=0.2, end=1.0)],
        [SpeechSegment(speaker="n", text="  ", start=0.0, end=0.5),
         SpeechSegment(speaker="n", text="two", start=0.1, end=0.9)],
    ]  # fmt: skip
    cues = cues_from_segments((0.0, 1.5), segs, 2.5)
    assert [(c.text, round(c.start, 3), round(c.end, 3)) for c in cues] == [
        ("one", 0.2, 1.0),
        ("two", 1.6, 2.4),
    ]
    files = write_subtitles(
        [*cues, Cue(2.0, 2.4, "三")], srt_path=tmp_path / "a.srt", ass_path=tmp_path / "a.ass",
        width=180, height=320,
    )  # fmt: skip
    assert files.count == 3
    assert len(pysubs2.load(str(tmp_path / "a.srt"))) == 3


def test_subtitle_cues_never_overlap() -> None:
    """Issue 13: under a 0.5 s crossfade shot 1's cue ran to 4.0 s while shot 2's began at
    3.5 s; a cue now ends where the next begins, and cues at one instant follow each other."""
    segs = [
        [SpeechSegment(speaker="n", text="一", start=0.0, end=4.0)],
        [SpeechSegment(speaker="a", text="二", start=0.0, end=2.0),
         SpeechSegment(speaker="b", text="三", start=0.05, end=3.0)],
    ]  # fmt: skip
    cues = cues_from_segments((0.0, 3.5), segs, 7.0)
    assert [(c.text, round(c.start, 3), round(c.end, 3)) for c in cues] == [
        ("一", 0.0, 3.5),
        ("二", 3.5, 5.5),
        ("三", 5.5, 6.5),
    ]
    assert all(a.end <= b.start for a, b in itertools.pairwise(cues))


def test_fonts() -> None:
    latin = find_font(False)
    assert latin.family
    cjk = find_font(True)  # the system's CJK font, or the one the manimgx-fonts-cjk wheel ships
    assert cjk.covers_cjk and cjk.path is not None
    assert has_cjk("中文") and not has_cjk("latin")


def test_cjk_font_draws_real_glyphs() -> None:
    """Distinct characters give distinct shapes: no empty boxes ("tofu") for Chinese text."""
    cjk = find_font(True)
    assert cjk.path is not None
    font = ImageFont.truetype(str(cjk.path), 48)

    def mask(ch: str) -> bytes:
        return bytes(font.getmask(ch))

    shapes = {ch: mask(ch) for ch in "夜门她推"}
    assert len(set(shapes.values())) == len(shapes)
    assert all(any(m) for m in shapes.values())
    assert mask("\U000f0000") not in shapes.values()  # a private-use point draws .notdef


def test_loudness_reference_and_limiter() -> None:
    t = np.arange(RATE * 3) / RATE
    tone = (10 ** (-23 / 20) * np.sin(2 * math.pi * 1000 * t)).astype(np.float32)
    assert integrated_loudness(np.stack([tone, tone], 1)) == pytest.approx(-23.0, abs=0.1)
    assert integrated_loudness(np.zeros((RATE, 2), np.float32)) == -math.inf
    loud = np.stack([tone * 30, tone * 30], 1)
    limited = limit(loud, -2.0)
    assert np.abs(limited).max() <= 10 ** (-2 / 20) + 1e-6


def test_resample_preserves_pitch_and_length() -> None:
    rate = 22_050
    t = np.arange(rate) / rate
    x = np.sin(2 * math.pi * 440 * t).astype(np.float32)
    y = resample(x, rate, RATE)
    assert y.size == RATE
    spectrum = np.abs(np.fft.rfft(y))
    assert abs(int(np.argmax(spectrum)) - 440) <= 1


def test_mix_places_voices_and_normalises(tmp_path: Path) -> None:
    voice = (0.3 * np.sin(2 * math.pi * 200 * np.arange(RATE // 2) / RATE)).astype(np.float32)
    mix = mix_soundtrack([(voice, 1.0, 2.0)], 3.0, music=True)
    assert mix.shape == (3 * RATE, 2)
    assert integrated_loudness(mix) == pytest.approx(-16.0, abs=0.5)
    energy = np.abs(mix[:, 0])
    # Speech lives at 1.0-1.5 s; the pad elsewhere is well below it.
    assert energy[RATE : RATE + RATE // 2].mean() > 4 * energy[2 * RATE + RATE // 4 :].mean()
    silent = mix_soundtrack([], 1.0, music=False)
    assert not silent.any()


def test_read_wav_24bit(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    samples = (np.array([0, 0.5, -0.5, 0.25]) * 8388607).astype(np.int32)
    raw = b"".join(int(s).to_bytes(3, "little", signed=True) for s in samples)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(3)
        w.setframerate(16_000)
        w.writeframes(raw)
    data, rate = read_wav(path)
    assert rate == 16_000
    assert data == pytest.approx([0, 0.5, -0.5, 0.25], abs=1e-6)


async def test_runner_raises_render_failed_with_stderr(tmp_path: Path) -> None:
    with pytest.raises(RenderFailed) as err:
        await run_ffmpeg(["-i", str(tmp_path / "missing.wav"), "-f", "null", "-"])
    assert "missing.wav" in err.value.stderr_tail
    assert err.value.returncode not in (None, 0)


async def test_runner_reports_progress(tmp_path: Path) -> None:
    seen: list[float] = []
    await run_ffmpeg(
        ["-f", "lavfi", "-i", "sine=d=2", "-f", "null", "-"],
        duration=2.0,
        on_progress=seen.append,
    )
    assert seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)


@pytest.mark.parametrize(
    ("points", "factor", "offset", "n"),
    [(9, 480, 240, 4320), (9, 480, 240, 4000), (1, 128, 64, 100), (5, 4, 0, 40), (3, 4, 0, 5)],
)
def test_upsample_linear_matches_interp(points: int, factor: int, offset: int, n: int) -> None:
    values = np.random.default_rng(points).random((points, 2)).astype(np.float32)
    at = offset + np.arange(points) * factor
    expected = np.stack([np.interp(np.arange(n), at, values[:, c]) for c in range(2)], axis=1)
    assert np.abs(upsample_linear(values, factor, n, offset=offset) - expected).max() < 1e-6
    assert upsample_linear(values[:, 0], factor, 0, offset=offset).shape == (0,)


def test_k_weighting_response_is_the_spec_filters() -> None:
    """The response taken from the impulse equals the two BS.1770 biquads on the unit circle
    (compared at the impulse's own length, where the DFT of a decayed response is exact)."""
    impulse = _k_impulse()
    assert abs(impulse[-1]) < 1e-20
    z = np.exp(-2j * np.pi * np.arange(impulse.size // 2 + 1) / impulse.size)
    shelf = (1.53512485958697 - 2.69169618940638 * z + 1.19839281085285 * z * z) / (
        1.0 - 1.69065929318241 * z + 0.73248077421585 * z * z
    )
    highpass = (1.0 - 2.0 * z + z * z) / (1.0 - 1.99004745483398 * z + 0.99007225036621 * z * z)
    assert np.abs(np.fft.rfft(impulse) - shelf * highpass).max() < 1e-9
    assert _k_response(4096).shape == (2049,)


async def test_the_frame_feeder_runs_at_the_work_niceness(tmp_path: Path) -> None:
    """The thread drawing frames into ffmpeg's stdin is stage work: it lowers its own priority
    by the process's work niceness (`STORYREEL_WORK_NICE`), the event loop's thread does not."""
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: list[int] = []

    def feeder(write: Callable[[bytes], None]) -> None:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        write(bytes(16 * 16 * 3 * 2))

    set_work_nice(3)
    try:
        raw = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "16x16", "-r", "2", "-i", "pipe:0"]
        await run_ffmpeg([*raw, "-f", "null", "-"], feeder=feeder)
    finally:
        set_work_nice(0)
    assert seen == [min(19, base + 3)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base
