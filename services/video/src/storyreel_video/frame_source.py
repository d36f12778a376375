"""The frame stream of a cut: each output frame from the timeline, camera and transitions,
written as raw yuv420p to ffmpeg's stdin.

A shot with a model's clip (`ClipSpec.video_path`) shows the clip's frames instead of camera
motion over its still; both are frame sources with the same `frame(progress)`.

Stills are loaded lazily, one shot ahead at most, and dropped once played, so memory stays flat
however long the story is and the cost of preparing a still overlaps the encode of the frames
already queued.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from storyreel_core.drama_models import Transition
from storyreel_video.clip_frames import ClipFrames
from storyreel_video.ffmpeg_runner import Feeder, Writer
from storyreel_video.ken_burns import ShotCamera
from storyreel_video.specs import ClipSpec
from storyreel_video.timeline import Timeline
from storyreel_video.transitions import blend
from storyreel_video.yuv import YuvFrame


class FrameSource:
    def __init__(
        self,
        clips: Sequence[ClipSpec],
        timeline: Timeline,
        *,
        width: int,
        height: int,
        transition: Transition = "crossfade",
        start: float = 0.0,
        count: int | None = None,
    ):
        """`count` frames (default: the timeline's frame count) from `start` seconds into the
        timeline on, one every 1/fps s: a segment of a cut is a window of its shots' timeline."""
        self.clips = list(clips)
        self.timeline = timeline
        self.width, self.height = width, height
        self.transition: Transition = transition
        self.start = start
        self.count = timeline.frame_count if count is None else count
        self._cams: dict[int, ShotCamera | ClipFrames] = {}

    def camera(self, i: int) -> ShotCamera | ClipFrames:
        cam = self._cams.get(i)
        if cam is None:
            for old in [k for k in self._cams if k < i - 1]:
                self._drop(old)
            clip = self.clips[i]
            if clip.video_path is not None:
                cam = ClipFrames(
                    clip.video_path, clip.duration, self.width, self.height, self.timeline.fps
                )
            else:
                cam = ShotCamera(
                    clip.image_path,
                    clip.camera_movement,
                    self.width,
                    self.height,
                    sha256=clip.image_sha256,
                )
            self._cams[i] = cam
        return cam

    def _drop(self, i: int) -> None:
        cam = self._cams.pop(i)
        if isinstance(cam, ClipFrames):
            cam.close()

    def frame(self, k: int) -> YuvFrame:
        # t = k / fps exactly for a whole cut (start 0), so it matches `Timeline.slot(k)`.
        slot = self.timeline.slot_at(self.start + k / self.timeline.fps)
        out = self.camera(slot.shot).frame(slot.progress)
        if slot.incoming is not None:
            incoming = self.camera(slot.incoming).frame(slot.incoming_progress)
            out = blend(out, incoming, slot.alpha, self.transition)
        return out

    def feeder(self, lead: int = 0) -> Feeder:
        """Writes the frames, after `lead` black frames (for filters that must see earlier
        times, such as libass placing subtitles; the caller trims them off)."""

        def feed(write: Writer) -> None:
            if lead:
                black = YuvFrame(
                    np.full((self.height, self.width), 16, np.uint8),
                    np.full((self.height // 2, self.width // 2), 128, np.uint8),
                    np.full((self.height // 2, self.width // 2), 128, np.uint8),
                )
                for _ in range(lead):
                    write(black.y.data)
                    write(black.u.data)
                    write(black.v.data)
            for k in range(self.count):
                f = self.frame(k)
                # Plane by plane straight from numpy's buffers: no per-frame bytes copy.
                write(f.y.data)
                write(f.u.data)
                write(f.v.data)
            for i in list(self._cams):
                self._drop(i)

        return feed
