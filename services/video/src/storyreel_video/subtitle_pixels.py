"""Subtitles as libass draws them: a mask of the text pixels at a moment, for checks.

Tests and `bench/viewer_checks.py` use it to see what a viewer sees rather than what the
layout meant: the ASS file is burned by the same ffmpeg + libass the renderer uses, onto a
black frame, with the same private fonts dir, and read back as a grey image (text and its
outline are bright, everything else 0).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

from storyreel_video.ffmpeg_runner import resolve_ffmpeg
from storyreel_video.fonts import FontChoice

Mask = npt.NDArray[np.bool_]


def subtitle_mask(
    ass_path: Path,
    font: FontChoice,
    width: int,
    height: int,
    at: float,
    *,
    threshold: int = 24,
    ffmpeg: str | None = None,
) -> Mask:
    """Pixels (height x width, True = drawn) covered by the subtitles shown at `at` seconds."""
    with tempfile.TemporaryDirectory(prefix="subs-") as tmp:
        work = Path(tmp)
        fonts = work / "fonts"
        fonts.mkdir()
        shutil.copyfile(ass_path, work / "subs.ass")
        if font.path is not None:
            (fonts / font.path.name).symlink_to(font.path)
        args = [
            resolve_ffmpeg(ffmpeg), "-v", "error", "-f", "lavfi",
            "-i", f"color=black:s={width}x{height}:r=25",
            # One frame, stamped `at`: libass draws what shows then.
            "-vf", f"setpts=PTS+{at:.3f}/TB,ass=filename=subs.ass:fontsdir=fonts,format=gray",
            "-frames:v", "1", "-f", "rawvideo", "pipe:1",
        ]  # fmt: skip
        done = subprocess.run(args, cwd=work, capture_output=True, timeout=60, check=True)
    grey = np.frombuffer(done.stdout, dtype=np.uint8)[: width * height].reshape(height, width)
    mask: Mask = grey > threshold
    return mask
