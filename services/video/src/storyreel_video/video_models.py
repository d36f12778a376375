"""What the videos area works on: shots read from the storyboards, and the inputs of its jobs.

`ShotRef` is the video service's own view of a storyboard (the fields it renders from), filled
by whatever implements the `ShotSource` port; job inputs are snapshots taken when the request
is accepted, so a redelivered job renders exactly what was asked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, Protocol, get_args

from pydantic import BaseModel, Field, model_validator

from storyreel_core.drama_models import (
    CAMERA_MOVEMENTS,
    CameraMovement,
    FigureBox,
    SpeechSegment,
    Transition,
)
from storyreel_core.errors import ValidationFailed
from storyreel_core.subtitle_templates import TemplateId

VideoKind = Literal["clip", "concat", "final"]
VIDEO_KINDS: tuple[VideoKind, ...] = ("clip", "concat", "final")
TRANSITIONS: tuple[Transition, ...] = get_args(Transition)
SubtitlePosition = Literal["bottom", "middle", "top"]

# Vertical 9:16 is the default: "720p" means 720 wide and 1280 tall.
_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_NAMED_COLOURS = {
    "white": (255, 255, 255),
    "black": (0, 0, 0),
    "yellow": (255, 230, 0),
    "red": (230, 30, 30),
    "green": (40, 200, 80),
    "blue": (40, 110, 240),
}
SPEECH_TAIL = 0.5  # seconds of picture after the last word, so a line is never cut short
DEFAULT_SHOT_SECONDS = 5.0  # seed 000's default clip duration


def parse_colour(value: str, field: str, default: tuple[int, int, int]) -> tuple[int, int, int]:
    """`#RRGGBB`, `#RGB` or a few plain names; empty means the default."""
    text = value.strip().lower()
    if not text:
        return default
    if text in _NAMED_COLOURS:
        return _NAMED_COLOURS[text]
    match = _HEX.match(text)
    if not match:
        raise ValidationFailed(f"{field} must be #RRGGBB or a colour name", field=field)
    digits = match[1] if len(match[1]) == 6 else "".join(c * 2 for c in match[1])
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def parse_transition(value: str, field: str, default: Transition) -> Transition:
    text = value.strip().lower() or default
    for known in TRANSITIONS:
        if text == known:
            return known
    raise ValidationFailed(f"{field} must be one of {', '.join(TRANSITIONS)}", field=field)


def parse_camera(value: str, field: str) -> CameraMovement | None:
    """None for "auto" (each shot keeps its own movement)."""
    text = value.strip().lower()
    if text in ("", "auto"):
        return None
    for known in CAMERA_MOVEMENTS:
        if text == known:
            return known
    raise ValidationFailed(
        f"{field} must be auto or one of {', '.join(CAMERA_MOVEMENTS)}", field=field
    )


class ShotRef(BaseModel):
    """One storyboard as the video service sees it."""

    storyboard_id: str
    position: int = 0
    image_key: str = ""
    audio_key: str = ""
    audio_duration: float = Field(default=0.0, ge=0)
    duration: float = Field(default=0.0, ge=0)
    camera_movement: CameraMovement = "static"
    segments: list[SpeechSegment] = Field(default_factory=list)
    narration: str = ""
    dialogue: list[str] = Field(default_factory=list)
    language: str = "zh"
    prompt: str = ""  # the storyboard's image prompt and description: what a video model animates
    # An uploaded video the shot plays instead of any motion (the asset's object key, read
    # when the request is accepted); "" for none, or when the asset is gone.
    video_asset_id: str = ""
    video_key: str = ""
    # Where the frame's characters stand: the cut keeps subtitles off their faces.
    figures: list[FigureBox] = Field(default_factory=list, max_length=32)

    def seconds(self, *, fallback: float | None, keep_planned: bool) -> float:
        """How long this shot plays.

        With audio: as long as the speech needs (plus a short tail), and no shorter than the
        planned duration when `keep_planned`. Without: `fallback` (the request's duration),
        else the planned duration, else seed 000's 5 s.
        """
        if self.audio_key and self.audio_duration > 0:
            need = self.audio_duration + SPEECH_TAIL
            return round(max(need, self.duration) if keep_planned else need, 3)
        return round(fallback or self.duration or DEFAULT_SHOT_SECONDS, 3)

    def subtitle_segments(self, seconds: float) -> list[SpeechSegment]:
        """The timed lines: the audio's own segments, else the written lines spread evenly."""
        if self.segments:
            return list(self.segments)
        lines = [t.strip() for t in [self.narration, *self.dialogue] if t and t.strip()]
        if not lines:
            return []
        step = seconds / len(lines)
        return [
            SpeechSegment(speaker="", text=text, start=i * step, end=(i + 1) * step)
            for i, text in enumerate(lines)
        ]


class ShotSource(Protocol):
    """Where storyboards come from (the storyboard service, read as the caller)."""

    async def shots(
        self, owner_id: str, drama_id: str, storyboard_ids: Sequence[str] | None
    ) -> list[ShotRef]:
        """The given storyboards in the order asked (NotFound naming an unknown one), or with
        None every storyboard of the drama in position order; a shot naming an uploaded
        video asset has that asset's object key as `video_key`."""
        ...


class DramaCheck(Protocol):
    async def require(self, owner_id: str, drama_id: str) -> None:
        """NotFound unless the drama exists and belongs to the owner."""
        ...


class MusicSource(Protocol):
    async def audio_key(self, owner_id: str, drama_id: str, asset_id: str) -> str:
        """The object key of an audio asset of the drama; NotFound or ValidationFailed."""
        ...


class ClipsInput(BaseModel):
    """The `clips` job: one clip per shot."""

    drama_id: str
    shots: list[ShotRef] = Field(min_length=1, max_length=100)
    width: int = Field(default=720, ge=64, le=4096)
    height: int = Field(default=1280, ge=64, le=4096)
    fps: int = Field(default=24, ge=1, le=60)
    duration: float | None = Field(default=None, ge=0.5, le=120)
    camera_movement: CameraMovement | None = None
    transition: Transition = "fade"
    subtitles: bool = False
    video_provider: str = Field(default="", max_length=64)
    video_model: str = Field(default="", max_length=200)


class ConcatSource(BaseModel):
    video_id: str
    key: str
    duration: float = Field(gt=0)
    width: int
    height: int
    fps: int


class ConcatInput(BaseModel):
    """The `concatenate` job: videos joined in order, re-encoded once to one size and rate."""

    drama_id: str
    sources: list[ConcatSource] = Field(min_length=1, max_length=200)
    width: int = Field(ge=64, le=4096)
    height: int = Field(ge=64, le=4096)
    fps: int = Field(ge=1, le=60)
    transition: Transition = "none"


class SubtitleSpec(BaseModel):
    enabled: bool = True
    font_size: int | None = Field(default=None, ge=8, le=200)
    color: tuple[int, int, int] = (255, 255, 255)
    outline_color: tuple[int, int, int] = (0, 0, 0)
    outline: float | None = Field(default=None, ge=0, le=20)
    position: SubtitlePosition = "bottom"
    # A dynamic subtitle template (`storyreel_core.subtitle_templates`), checked by the API.
    template: TemplateId = "classic"


class MusicSpec(BaseModel):
    enabled: bool = True
    asset_id: str = ""
    key: str = ""  # the asset's audio object; "" = the built-in bed
    volume: float | None = Field(default=None, ge=0, le=1)
    fade_in: float | None = Field(default=None, ge=0, le=60)
    fade_out: float | None = Field(default=None, ge=0, le=60)


class CutShot(BaseModel):
    """One shot as the composer takes it: timed, moved, with its lines (`CutShot` on the wire,
    for a drama-less cut; a storyboard becomes one through `shot_clips.cut_shot`)."""

    shot_id: str
    frame_key: str
    audio_key: str | None = None
    duration: float = Field(gt=0.2, le=120)  # seconds
    camera_movement: CameraMovement = "static"
    segments: list[SpeechSegment] = Field(default_factory=list)
    figures: list[FigureBox] = Field(default_factory=list, max_length=32)
    prompt: str = Field(default="", max_length=4000)  # what a video model is told to animate


class FinalCutInput(BaseModel):
    """The `final_cut` job, of one of two sources:

    - a drama's `storyboards` (`drama_id` set; snapshots read when the request was accepted):
      silent shots with words are spoken first, an uploaded video plays instead of motion, and
      the cut is saved as the drama's `final` video;
    - explicit `shots` (no drama): the cut's files are the task's result only.
    """

    drama_id: str = ""
    storyboards: list[ShotRef] = Field(default_factory=list, max_length=200)
    shots: list[CutShot] = Field(default_factory=list, max_length=200)
    width: int = Field(default=720, ge=64, le=4096)
    height: int = Field(default=1280, ge=64, le=4096)
    fps: int = Field(default=24, ge=1, le=60)
    transition: Transition = "crossfade"
    # Seconds two neighbouring shots overlap (capped by the shortest shot, `timeline`).
    transition_duration: float = Field(default=0.5, ge=0, le=5)
    subtitles: SubtitleSpec = Field(default_factory=SubtitleSpec)
    music: MusicSpec = Field(default_factory=MusicSpec)
    language: str = "en"
    # A configured video provider and model for the shots' motion; empty = camera motion.
    video_provider: str = Field(default="", max_length=64)
    video_model: str = Field(default="", max_length=200)
    budget: float | None = Field(default=None, ge=0)  # US dollars for the clips; None = no limit
    title: str = Field(default="", max_length=200)  # drawn on the thumbnail; "" = none

    @model_validator(mode="after")
    def _one_source(self) -> FinalCutInput:
        if bool(self.storyboards) == bool(self.shots):
            raise ValueError("a final cut takes either a drama's storyboards or explicit shots")
        if bool(self.storyboards) != bool(self.drama_id):
            raise ValueError("storyboards come with their drama_id, explicit shots without one")
        if self.shots and self.music.key:
            raise ValueError("an uploaded music track needs a drama")
        return self
