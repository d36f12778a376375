"""A model's clip as a shot's frame source: conformed to the cut, read frame by frame, and
hashed into the segment that draws it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from storyreel_video.clip_frames import ClipFrames, clip_frame_count
from storyreel_video.model_motion import conform_clip
from storyreel_video.segments import SEGMENT_FORMAT, SegmentInput, SegmentShot, segment_key


def _grey_ramp(path: Path, frames: int, fps: int, size: str) -> Path:
    """A clip whose frame k has luma 20 + 20·k (each frame tells its own index)."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", f"color=c=black:s={size}:r={fps}:d={frames / fps}",
            "-vf", "format=yuv420p,geq=lum='20+20*N':cb=128:cr=128", "-frames:v", str(frames),
            "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p",
            "-y", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def test_a_conformed_clip_is_read_by_progress_and_held_past_its_end(tmp_path: Path) -> None:
    """8 frames at 8 fps (1 s), another size, into a 1.5 s shot at 8 fps of 64×96: 12 frames,
    the last source frame held; progress p shows frame round(p · (duration · fps − 1))."""
    source = _grey_ramp(tmp_path / "ramp.mp4", 8, 8, "48x48")
    out = asyncio.run(
        conform_clip(source, tmp_path / "clip.mp4", width=64, height=96, fps=8, duration=1.5)
    )
    frames = ClipFrames(out, 1.5, 64, 96, 8)
    assert frames.count == clip_frame_count(1.5, 8) == 12

    def level(progress: float) -> float:
        return float(np.mean(frames.frame(progress).y))

    expected = [20 + 20 * k for k in range(8)]
    assert abs(level(0.0) - expected[0]) < 3
    assert abs(level(3 / 11) - expected[3]) < 3
    assert abs(level(1.0) - expected[7]) < 3  # held: the clip was shorter than the shot
    assert abs(level(1 / 11) - expected[1]) < 3  # backwards: decoded again from the start
    frames.close()


def test_a_model_clip_enters_the_segment_key_and_a_still_keeps_its_key() -> None:
    still = SegmentShot(frame_key="a.png", frame_sha256="1" * 64, duration=2.0)
    spec = SegmentInput(
        key="", shots=[still], first_frame=0, start=0.0, frame_count=48,
        width=64, height=96, fps=24,
    )  # fmt: skip
    # The key a still's segment had before clips existed: unchanged, so caches stay warm.
    material = spec.model_dump(mode="json", exclude={"key", "font_path"})
    for shot in material["shots"]:
        for field in ("frame_key", "clip_key", "clip_sha256"):
            shot.pop(field)
    material |= {"encoder": "x264", "format": SEGMENT_FORMAT}
    digest = hashlib.sha256(
        json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert segment_key(spec, prefix="p/", encoder="x264") == f"p/{digest}.mp4"
    moving = spec.model_copy(
        update={"shots": [still.model_copy(update={"clip_key": "c.mp4", "clip_sha256": "2" * 64})]}
    )
    other = spec.model_copy(
        update={"shots": [still.model_copy(update={"clip_key": "d.mp4", "clip_sha256": "3" * 64})]}
    )
    keys = {segment_key(s, prefix="p/", encoder="x264") for s in (spec, moving, other)}
    assert len(keys) == 3
    renamed = moving.model_copy(
        update={"shots": [moving.shots[0].model_copy(update={"clip_key": "elsewhere.mp4"})]}
    )
    assert segment_key(renamed, prefix="p/", encoder="x264") == segment_key(
        moving, prefix="p/", encoder="x264"
    )  # by content, never by key
