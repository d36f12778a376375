"""What the composer takes (one `ClipSpec` per shot) and what it returns (`FinalCut`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from storyreel_core.drama_models import CameraMovement, FigureBox, SpeechSegment


@dataclass(frozen=True)
class ClipSpec:
    """One shot: its still, how long it lasts, how the camera moves, and its speech.

    `segments` are timed relative to the shot start (as the TTS stage measured them);
    `audio_path` is the shot's speech WAV and may be shorter than `duration`; `figures` says
    where the frame's characters stand (frame fractions), so subtitles keep off their faces.
    `video_path`, when set, is the shot's motion from a video model, conformed to the cut
    (`model_motion`): its frames are shown instead of camera motion over the still (which
    still makes the thumbnail). `image_sha256`, when the caller already knows it (a segment
    checked its stills against the plan's hashes), spares the camera hashing the still again.
    """

    image_path: Path
    duration: float
    camera_movement: CameraMovement = "static"
    audio_path: Path | None = None
    segments: Sequence[SpeechSegment] = field(default_factory=tuple)
    figures: Sequence[FigureBox] = field(default_factory=tuple)
    video_path: Path | None = None
    image_sha256: str | None = None


@dataclass(frozen=True)
class FinalCut:
    """The rendered outputs. `duration` is the video's length in seconds
    (sum of shot durations − (n − 1) × transition overlap, to the nearest frame)."""

    video_path: Path
    srt_path: Path
    ass_path: Path
    thumbnail_path: Path
    duration: float
    subtitle_cues: int
