"""`probe_video`, the dynamic-subtitles job's first look at its input, on real files.

Only a file that is not a decodable video is the caller's fault (400); a read that fails for
another reason is retried by the job runner (`RenderFailed`). The karaoke e2e test failed
once under the full suite with a fine upload reported as "the video could not be read"
(the probe's own machinery failing: a forked ffmpeg and a reader thread); the probe now
reads in this process, and several at once on one file all answer.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import imageio_ffmpeg
import pytest

from storyreel_core.errors import AppError, Code, ValidationFailed
from storyreel_video.dynamic_subtitles import probe_video
from storyreel_video.errors import RenderFailed


def clip(path: Path) -> Path:
    """A real 1 s H.264 MP4, 96x160 at 25 fps."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", "color=c=0x505050:s=96x160:r=25:d=1",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-y", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def test_sides_and_duration_of_a_video(tmp_path: Path) -> None:
    width, height, duration = probe_video(clip(tmp_path / "clip.mp4"))
    assert (width, height) == (96, 160)
    assert abs(duration - 1.0) < 0.1


def test_a_video_stored_turned_is_measured_as_it_is_drawn(tmp_path: Path) -> None:
    upright = clip(tmp_path / "clip.mp4")
    turned = tmp_path / "turned.mp4"
    subprocess.run(  # the same stream with a display matrix of 90°
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
            "-display_rotation", "90", "-i", str(upright), "-c", "copy", "-y", str(turned),
        ],
        check=True,
    )  # fmt: skip
    width, height, _ = probe_video(turned)
    assert (width, height) == (160, 96)


def test_several_probes_of_one_file_at_once_all_answer(tmp_path: Path) -> None:
    source = clip(tmp_path / "clip.mp4")
    with ThreadPoolExecutor(6) as pool:
        sides = list(pool.map(lambda _: probe_video(source)[:2], range(12)))
    assert sides == [(96, 160)] * 12


@pytest.mark.parametrize(
    "content",
    [b"", b"not a video at all" * 100, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500],
    ids=["empty", "text", "truncated-mp4"],
)
def test_a_file_that_is_no_video_is_the_callers_fault(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "source.mp4"
    path.write_bytes(content)
    with pytest.raises(ValidationFailed) as caught:
        probe_video(path)
    assert caught.value.code == Code.VALIDATION and caught.value.field == "video"


def test_a_read_that_fails_for_another_reason_is_retried_not_a_400(tmp_path: Path) -> None:
    with pytest.raises(RenderFailed) as caught:
        probe_video(tmp_path / "gone.mp4")  # not there: the fetch went wrong, not the file
    assert isinstance(caught.value, AppError) and caught.value.code != Code.VALIDATION
