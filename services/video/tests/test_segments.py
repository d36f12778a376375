"""Segmented final cuts: frame-exact windows, seamless joins against a single-pass render,
timestamps, audio alignment and the content-keyed cache (segments run by the real
`SegmentJob` in this process, over a real folder object store)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from storyreel_core.drama_models import SpeechSegment
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_video.ffmpeg_runner import resolve_ffmpeg
from storyreel_video.final_cut import compose_final_cut
from storyreel_video.segmented_cut import LocalSegments, SegmentCounts, compose_segmented_cut
from storyreel_video.segments import plan_windows
from storyreel_video.specs import ClipSpec
from storyreel_video.timeline import Timeline

W, H, FPS = 216, 384, 12
Media = Callable[..., tuple[list[Path], list[Path]]]


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray") for f in c.decode(video=0)]


def packets_of(path: Path) -> tuple[list[int], list[int], float]:
    """(pts, dts) of every video packet and the video time base."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        packets = [p for p in c.demux(stream) if p.size]
        tb = float(stream.time_base)
    return [int(p.pts) for p in packets], [int(p.dts) for p in packets], tb


def ssim_per_frame(a: Path, b: Path, stats: Path) -> list[float]:
    """ffmpeg's ssim filter over two videos of equal length: each frame's All value."""
    subprocess.run(
        [resolve_ffmpeg(), "-hide_banner", "-loglevel", "error", "-i", str(a), "-i", str(b),
         "-lavfi", f"[0:v][1:v]ssim=stats_file={stats.name}", "-f", "null", "-"],
        capture_output=True, check=True, cwd=stats.parent,
    )  # fmt: skip
    lines = stats.read_text().splitlines()
    return [float(ln.split("All:")[1].split()[0]) for ln in lines if "All:" in ln]


def soft_still(path: Path, seed: int) -> Path:
    """A still with the smooth gradients and soft shapes of a generated picture (the noise
    textures of `conftest.make_still` make any two lossy encodes differ everywhere)."""
    rng = np.random.default_rng(seed)
    low = Image.fromarray(rng.integers(0, 255, (5, 3, 3), dtype=np.uint8))
    mid = Image.fromarray(rng.integers(0, 255, (H // 24, W // 24, 3), dtype=np.uint8))
    img = np.asarray(low.resize((W, H), Image.Resampling.BICUBIC)).astype(np.int16)
    img += (np.asarray(mid.resize((W, H), Image.Resampling.BICUBIC)).astype(np.int16) - 128) // 3
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return path


def clips_for(stills: list[Path], voices: list[Path], seconds: list[float]) -> list[ClipSpec]:
    moves = ["push_in", "pan_left", "pull_out", "tilt_up", "static"]
    return [
        ClipSpec(
            still,
            d,
            moves[i % len(moves)],  # type: ignore[arg-type]
            voice,
            [SpeechSegment(speaker="N", text=f"Line {i} is spoken here", start=0.1, end=d - 0.1)],
        )
        for i, (still, voice, d) in enumerate(zip(stills, voices, seconds, strict=True))
    ]


def test_windows_are_frame_exact() -> None:
    for durations, td, fps in [
        ([1.3, 0.9, 2.07, 1.11], 0.37, 24),
        ([1.0, 1.0, 1.0], 0.5, 12),
        ([0.7, 1.9], 0.0, 30),
        ([2.5], 0.0, 25),
    ]:
        timeline = Timeline.build(durations, td, fps)
        windows = plan_windows(timeline)
        assert len(windows) == len(durations)
        assert sum(w.frame_count for w in windows) == timeline.frame_count
        assert windows[0].first_frame == 0
        for w, nxt in pairwise(windows):
            assert w.first_frame + w.frame_count == nxt.first_frame
        for w in windows:
            # Each window's first frame is past the transition into its shot: it draws that
            # shot and at most the next one, never the previous.
            slot = timeline.slot(w.first_frame)
            assert slot.shot == w.index and slot.incoming in (None, w.index + 1)
            t = w.first_frame / fps - timeline.starts[w.index]
            assert w.start == pytest.approx(t, abs=1e-6)


async def render(
    clips: list[ClipSpec], keys: list[str], runner: LocalSegments, out: Path, **kw: Any
) -> Any:
    return await compose_segmented_cut(
        clips, keys, out, runner=runner, owner_id="user_1", parent_id=None,
        width=W, height=H, fps=FPS, transition_duration=0.4, **kw,
    )  # fmt: skip


async def test_segment_joins_match_a_single_pass_render(tmp_path: Path, media: Media) -> None:
    _, voices = media(4, W, H, speech=0.9)
    stills = [soft_still(tmp_path / f"soft{i}.png", i) for i in range(4)]
    seconds = [1.3, 1.05, 1.2, 1.1]
    clips = clips_for(stills, voices, seconds)
    objects = FolderObjectStore(tmp_path / "objects")
    keys = []
    for i, still in enumerate(stills):
        keys.append(f"frames/{i}.png")
        await objects.put_file(keys[-1], still, "image/png")
    runner = LocalSegments(objects)
    seg = await render(clips, keys, runner, tmp_path / "seg")
    one = await compose_final_cut(
        clips, tmp_path / "one", width=W, height=H, fps=FPS, transition_duration=0.4
    )
    assert seg.segments == SegmentCounts(total=4, encoded=4)
    cut = seg.cut
    total = sum(seconds) - 3 * 0.4
    assert cut.duration == one.duration == pytest.approx(total, abs=1 / FPS)

    # Timestamps: one packet per frame, PTS evenly spaced, DTS strictly increasing, and the
    # same frame count as the single pass.
    pts, dts, tb = packets_of(cut.video_path)
    assert len(pts) == round(total * FPS)
    ordered = sorted(pts)
    assert {b - a for a, b in pairwise(ordered)} == {round(1 / FPS / tb)}
    assert all(b > a for a, b in pairwise(dts))
    # Audio aligned: the soundtrack lasts the video (to under a frame) and starts with it.
    with av.open(str(cut.video_path)) as c:
        a, v = c.streams.audio[0], c.streams.video[0]
        audio_len = float(a.duration * a.time_base)
        video_len = float(v.duration * v.time_base)
        assert float((a.start_time or 0) * a.time_base) == pytest.approx(0, abs=0.03)
    assert abs(audio_len - video_len) < 1 / FPS

    # Each join, frame for frame: no repeated or missing frame, and the picture of a
    # single-pass render (SSIM >= 0.98 over the frames around every join).
    seg_frames, one_frames = frames_of(cut.video_path), frames_of(one.video_path)
    assert len(seg_frames) == len(one_frames) == len(pts)
    windows = plan_windows(Timeline.build(seconds, 0.4, FPS))
    scores = ssim_per_frame(cut.video_path, one.video_path, tmp_path / "ssim.log")
    assert len(scores) == len(pts)
    for w in windows[1:]:
        for k in range(w.first_frame - 2, w.first_frame + 2):
            assert scores[k] >= 0.98, (k, scores[k])
        # A repeated frame at the join would make two neighbours equal where motion runs.
        assert not np.array_equal(seg_frames[w.first_frame - 1], seg_frames[w.first_frame])


async def test_cache_reencodes_only_the_segments_an_edit_touches(
    tmp_path: Path, media: Media, synth: Any
) -> None:
    make_still = synth[0]
    stills, voices = media(4, W, H, speech=0.6)
    seconds = [1.0, 1.0, 1.0, 1.0]
    objects = FolderObjectStore(tmp_path / "objects")
    keys = [f"frames/{i}.png" for i in range(4)]
    for key, still in zip(keys, stills, strict=True):
        await objects.put_file(key, still, "image/png")
    runner = LocalSegments(objects)
    clips = clips_for(stills, voices, seconds)
    first = await render(clips, keys, runner, tmp_path / "a")
    assert first.segments.encoded == 4 and first.soundtrack == "mixed"

    again = await render(clips, keys, runner, tmp_path / "b")
    assert again.segments == SegmentCounts(total=4, encoded=0)
    assert again.soundtrack == "reused"
    assert frames_of(again.cut.video_path)[-1].shape == (H, W)

    # A new still for shot 2 (a regenerated image under the same key): segments 1 (its
    # transition into shot 2) and 2.
    runner.encoded.clear()
    new_still = make_still(tmp_path / "new2.png", W, H, seed=42)
    await objects.put_file(keys[2], new_still, "image/png")
    clips[2] = ClipSpec(new_still, 1.0, clips[2].camera_movement, voices[2], clips[2].segments)
    edited = await render(clips, keys, runner, tmp_path / "c")
    assert edited.segments.encoded == 2 and edited.soundtrack == "reused"  # same sound
    assert [s.shots[0].frame_key for s in runner.encoded] == [keys[1], keys[2]]

    # Another camera move for shot 0: only segment 0 (nothing transitions into shot 0).
    runner.encoded.clear()
    clips[0] = ClipSpec(clips[0].image_path, 1.0, "pan_right", voices[0], clips[0].segments)
    moved = await render(clips, keys, runner, tmp_path / "d")
    assert moved.segments.encoded == 1 and runner.encoded[0].first_frame == 0

    # A changed subtitle on shot 3 (it shows from the transition into shot 3 on): segments
    # 2 and 3.
    runner.encoded.clear()
    clips[3] = ClipSpec(
        clips[3].image_path, 1.0, clips[3].camera_movement, voices[3],
        [SpeechSegment(speaker="N", text="A different line", start=0.1, end=0.8)],
    )  # fmt: skip
    subbed = await render(clips, keys, runner, tmp_path / "e")
    assert subbed.segments.encoded == 2
    assert [s.shots[0].frame_key for s in runner.encoded] == [keys[2], keys[3]]
    assert subbed.cut.duration == pytest.approx(first.cut.duration)
    assert subbed.soundtrack == "reused"

    # Another voice for shot 1 changes the sound (mixed again) and no picture.
    runner.encoded.clear()
    clips[1] = ClipSpec(
        clips[1].image_path, 1.0, clips[1].camera_movement, voices[3], clips[1].segments
    )
    revoiced = await render(clips, keys, runner, tmp_path / "f")
    assert revoiced.segments.encoded == 0 and revoiced.soundtrack == "mixed"
    with av.open(str(revoiced.cut.video_path)) as c:
        assert c.streams.audio[0].codec_context.name == "aac"
