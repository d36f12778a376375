"""End-to-end: compose small final cuts and probe the MP4 with PyAV."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from typing import Any

import av
import numpy as np
import pysubs2
import pytest
from PIL import Image

import storyreel_video.ffmpeg_runner as ffmpeg_runner
from storyreel_core.drama_models import SpeechSegment
from storyreel_video import ClipSpec, RenderFailed, compose_final_cut, render_clip
from storyreel_video.loudness import integrated_loudness

W, H, FPS = 180, 320, 12
Media = Callable[..., tuple[list[Path], list[Path]]]


def probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        a = c.streams.audio[0]
        frames = sum(1 for _ in c.decode(video=0))
        info = {
            "vcodec": v.codec_context.name,
            "acodec": a.codec_context.name,
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "pix_fmt": v.codec_context.pix_fmt,
            "fps": v.average_rate,
            "frames": frames,
            "duration": float(c.duration) / av.time_base if c.duration else 0.0,
            "sample_rate": a.codec_context.sample_rate,
        }
    return info


def decode_audio(path: Path) -> tuple[np.ndarray, int]:
    chunks = []
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        rate = stream.codec_context.sample_rate
        for frame in c.decode(audio=0):
            chunks.append(frame.to_ndarray())  # fltp: (channels, samples)
    data = np.concatenate(chunks, axis=1).T.astype(np.float32)
    return data, rate


def _hidden(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def clips_for(
    stills: list[Path], voices: list[Path | None], dur: float, moves: list[str] | None = None
) -> list[ClipSpec]:
    moves = moves or ["push_in", "pan_left", "pull_out", "pan_right", "tilt_up", "static"]
    out = []
    for i, (still, voice) in enumerate(zip(stills, voices, strict=True)):
        segs = [
            SpeechSegment(
                speaker="narrator", text=f"Line {i}: the night {{was}} long.", start=0.1, end=0.6
            ),
            SpeechSegment(
                speaker="c1",
                text="A much longer reply that must wrap on a narrow vertical frame.",
                start=0.65,
                end=0.95,
            ),
        ]
        out.append(
            ClipSpec(still, dur, moves[i % len(moves)], voice, segs)  # type: ignore[arg-type]
        )
    return out


async def test_final_cut_end_to_end(tmp_path: Path, media: Media) -> None:
    stills, voices = media(3, W, H, speech=1.0)
    clips = clips_for(stills, list(voices), 1.5)
    seen: list[float] = []

    async def progress(f: float) -> None:
        seen.append(f)

    cut = await compose_final_cut(
        clips, tmp_path / "out", width=W, height=H, fps=FPS,
        transition_duration=0.2, on_progress=progress,
    )  # fmt: skip

    assert cut.video_path == tmp_path / "out" / "final.mp4"
    info = probe(cut.video_path)
    assert info["vcodec"] == "h264" and info["acodec"] == "aac"
    assert (info["width"], info["height"]) == (W, H)
    assert info["pix_fmt"] == "yuv420p"
    assert info["fps"] == Fraction(FPS)
    expected = 3 * 1.5 - 2 * 0.2
    assert cut.duration == pytest.approx(expected, abs=1 / FPS)
    assert info["frames"] == round(expected * FPS)
    assert info["duration"] == pytest.approx(expected, abs=0.15)
    assert abs(info["duration"] - 4.5) / 4.5 < 0.10  # within 10% of the sum of shot durations
    assert info["sample_rate"] in (44_100, 48_000)

    # Audio: present, not silent, normalised near -16 LUFS.
    audio, rate = decode_audio(cut.video_path)
    assert float(np.sqrt(np.mean(audio**2))) > 0.01
    assert integrated_loudness(audio, rate) == pytest.approx(-16.0, abs=1.5)

    # Subtitles: every segment whole and in order, in cues of at most two lines (a segment
    # too long for two lines on this narrow frame becomes several cues), inside the video.
    srt = pysubs2.load(str(cut.srt_path))
    assert len(srt) == cut.subtitle_cues >= 6
    assert all(e.end > e.start for e in srt)
    assert all(b.start >= a.end - 1 for a, b in pairwise(srt))
    assert max(e.text.count("\\N") + 1 for e in srt) <= 2
    spoken = " ".join(s.text for clip in clips for s in clip.segments)
    assert " ".join(e.text.replace("\\N", " ") for e in srt) == spoken
    assert srt[-1].end / 1000 <= cut.duration + 0.01
    assert "{was}" in srt[0].text  # SRT keeps the braces verbatim
    assert "\\{was\\}" in pysubs2.load(str(cut.ass_path))[0].text  # escaped for libass
    ass = pysubs2.load(str(cut.ass_path))
    assert len(ass) == len(srt) and ass.info["PlayResX"] == str(W)
    assert max(e.text.count("\\N") for e in ass) >= 1  # the long reply was wrapped

    with Image.open(cut.thumbnail_path) as thumb:
        assert thumb.format == "JPEG" and thumb.size == (W, H)

    assert seen and seen[-1] == 1.0
    assert all(b >= a for a, b in pairwise(seen))
    leftovers = [p.name for p in (tmp_path / "out").iterdir()]
    assert sorted(leftovers) == ["final.ass", "final.mp4", "final.srt", "thumbnail.jpg"]


@pytest.mark.parametrize("transition", ["none", "crossfade", "wipeleft", "slideup"])
async def test_transitions_change_duration(tmp_path: Path, media: Media, transition: str) -> None:
    stills, _ = media(3, W, H)
    clips = [ClipSpec(s, 1.0, "static") for s in stills]
    cut = await compose_final_cut(
        clips, tmp_path, width=W, height=H, fps=FPS, transition=transition,  # type: ignore[arg-type]
        transition_duration=0.25, music=False,
    )  # fmt: skip
    expected = 3.0 if transition == "none" else 3.0 - 2 * 0.25
    info = probe(cut.video_path)
    assert info["frames"] == round(expected * FPS)
    assert info["duration"] == pytest.approx(expected, abs=0.15)
    assert cut.subtitle_cues == 0


async def test_chinese_subtitles_render(tmp_path: Path, media: Media) -> None:
    stills, voices = media(1, W, H)
    line = "夜深了，她终于推开了那扇尘封已久的门。"
    segment = SpeechSegment(speaker="narrator", text=line, start=0.1, end=1.0)
    clip = ClipSpec(stills[0], 1.2, "push_in", voices[0], [segment])
    cut = await compose_final_cut([clip], tmp_path, width=W, height=H, fps=FPS, language="zh")
    assert cut.subtitle_cues == 1
    assert probe(cut.video_path)["vcodec"] == "h264"
    text = pysubs2.load(str(cut.srt_path))[0].plaintext
    assert text.replace("\n", "") == line


async def test_render_clip(tmp_path: Path, media: Media) -> None:
    stills, voices = media(1, W, H, speech=0.8)
    out = await render_clip(
        ClipSpec(stills[0], 1.0, "pan_right", voices[0]), tmp_path / "clip.mp4",
        width=W, height=H, fps=FPS,
    )  # fmt: skip
    info = probe(out)
    assert (info["vcodec"], info["acodec"]) == ("h264", "aac")
    assert info["frames"] == FPS
    audio, _ = decode_audio(out)
    assert float(np.abs(audio).max()) > 0.05
    assert _hidden(tmp_path) == []


async def test_cancellation_kills_ffmpeg_and_leaves_nothing(
    tmp_path: Path, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    stills, voices = media(2, 360, 640)
    clips = clips_for(stills, list(voices), 6.0, ["push_in", "pull_out"])
    procs: list[asyncio.subprocess.Process] = []
    real_exec = asyncio.create_subprocess_exec

    async def spy(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        proc = await real_exec(*args, **kwargs)
        procs.append(proc)
        return proc

    monkeypatch.setattr(ffmpeg_runner.asyncio, "create_subprocess_exec", spy)
    started = asyncio.Event()

    def progress(f: float) -> None:
        if f > 0:
            started.set()

    out = tmp_path / "out"
    task = asyncio.create_task(
        compose_final_cut(clips, out, width=360, height=640, fps=24, on_progress=progress)
    )
    await asyncio.wait_for(started.wait(), timeout=60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert procs, "ffmpeg was never started"
    for proc in procs:
        assert proc.returncode is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, 0)
            pytest.fail(f"ffmpeg {proc.pid} still running")
    assert not (out / "final.mp4").exists()
    assert list(out.iterdir()) == []  # no partial outputs, no work dir


async def test_broken_audio_raises_render_failed(tmp_path: Path, media: Media) -> None:
    stills, _ = media(1, W, H)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + os.urandom(256))
    with pytest.raises(RenderFailed) as err:
        await compose_final_cut(
            [ClipSpec(stills[0], 1.0, "static", bad)], tmp_path / "out", width=W, height=H, fps=FPS
        )
    assert err.value.stderr_tail  # ffmpeg's own diagnosis travels with the error
    assert not (tmp_path / "out" / "final.mp4").exists()
    assert list((tmp_path / "out").iterdir()) == []


async def test_broken_image_raises_render_failed(tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(RenderFailed, match="frame generation failed"):
        await compose_final_cut(
            [ClipSpec(bad, 1.0, "push_in")], tmp_path / "out", width=W, height=H, fps=FPS
        )
    assert not (tmp_path / "out" / "final.mp4").exists()
