"""A model's clip as a shot's frame source: the same `frame(progress)` a `ShotCamera` offers.

The clip was conformed first (`model_motion.conform_clip`: exactly the cut's size, rate and
the shot's frame count, yuv420p BT.709), so a frame is read, not resampled: ffmpeg decodes it
to raw yuv420p on a pipe, read forward as the cut asks (a segment and a transition only move
forward in time). Only the frame on show is kept in memory, however long the clip.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np

from storyreel_video.ffmpeg_runner import lower_priority, resolve_ffmpeg
from storyreel_video.yuv import YuvFrame, frame_bytes


def clip_frame_count(duration: float, fps: int) -> int:
    """Frames of a shot of `duration` seconds at `fps`: what a conformed clip holds."""
    return max(1, math.ceil(duration * fps - 1e-9))


class ClipFrames:
    """Frames of a conformed clip by progress through the shot (0..1, as `Timeline` gives it:
    1 is the shot's last frame)."""

    def __init__(
        self,
        path: Path,
        duration: float,
        width: int,
        height: int,
        fps: int,
        *,
        ffmpeg: str | None = None,
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError("width and height must be even for yuv420p")
        self.path = Path(path)
        self.width, self.height, self.fps = width, height, fps
        self.duration = duration
        self.count = clip_frame_count(duration, fps)
        self._ffmpeg = resolve_ffmpeg(ffmpeg)
        self._proc: subprocess.Popen[bytes] | None = None
        self._index = -1  # the frame held in `_frame`
        self._frame: YuvFrame | None = None
        self._size = frame_bytes(width, height)

    def _open(self) -> None:
        self.close()
        self._proc = subprocess.Popen(
            [
                self._ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
                "-i", str(self.path), "-f", "rawvideo", "-pix_fmt", "yuv420p",
                "-s", f"{self.width}x{self.height}", "pipe:1",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        lower_priority(self._proc.pid)
        self._index = -1

    def _read(self) -> YuvFrame | None:
        assert self._proc is not None and self._proc.stdout is not None
        data = self._proc.stdout.read(self._size)
        if len(data) < self._size:
            return None
        w, h = self.width, self.height
        flat = np.frombuffer(data, np.uint8)
        y = flat[: w * h].reshape(h, w)
        u = flat[w * h : w * h + w * h // 4].reshape(h // 2, w // 2)
        v = flat[w * h + w * h // 4 :].reshape(h // 2, w // 2)
        return YuvFrame(y, u, v)

    def frame(self, progress: float) -> YuvFrame:
        """The clip's frame at `progress`; past the clip's end its last frame (held).

        Raises `ValueError` when the clip holds no frame at all.
        """
        # Frame k of the shot is shown at progress k / (duration·fps − 1) (`Timeline`).
        span = max(self.duration * self.fps - 1.0, 0.0)
        wanted = min(self.count - 1, max(0, round(progress * span)))
        if self._proc is None or wanted < self._index:
            self._open()
        while self._index < wanted:
            read = self._read()
            if read is None:
                break  # shorter than planned: hold the last frame read
            self._frame, self._index = read, self._index + 1
        if self._frame is None:
            raise ValueError(f"the clip {self.path.name} has no frames")
        return self._frame

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None

    def __del__(self) -> None:
        self.close()
