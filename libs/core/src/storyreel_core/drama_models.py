"""The creative data that travels between stages: screenplay, storyboard shots, speech.

These models are the contract between services (they cross gRPC and JetStream as JSON),
so they live in core; each service keeps its own persistence shapes to itself.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Language = Literal["zh", "en"]
Gender = Literal["male", "female", "unknown"]
ShotType = Literal[
    "close_up",
    "medium_close_up",
    "medium",
    "wide",
    "extreme_wide",
    "high_angle",
    "low_angle",
]
CameraMovement = Literal["push_in", "pull_out", "pan_left", "pan_right", "tilt_up", "static"]
Transition = Literal["crossfade", "fade", "wipeleft", "wiperight", "slideup", "dissolve", "none"]

SHOT_TYPES: tuple[ShotType, ...] = (
    "close_up",
    "medium_close_up",
    "medium",
    "wide",
    "extreme_wide",
    "high_angle",
    "low_angle",
)
CAMERA_MOVEMENTS: tuple[CameraMovement, ...] = (
    "push_in",
    "pull_out",
    "pan_left",
    "pan_right",
    "tilt_up",
    "static",
)


class Character(BaseModel):
    """A person found in the story; `id` is stable for the same name and seed."""

    id: str
    name: str
    gender: Gender = "unknown"
    description: str = ""


class DialogueLine(BaseModel):
    """One spoken line; `character_id` names who speaks it."""

    character_id: str
    text: str


NARRATOR = "narrator"


class Line(BaseModel):
    """One beat of what is heard, in story order: narration or a character's line.

    `speaker` is "narrator" or a character id. A Scene's or Shot's `lines` hold its
    narration sentences and dialogue interleaved as the text has them; `narration` and
    `dialogue` stay beside them (the same words, grouped by kind) for older readers. An empty
    `lines` means the order is unknown: readers fall back to narration, then dialogue.
    """

    speaker: str = NARRATOR
    text: str


def ordered_lines(narration: str, dialogue: list[DialogueLine], lines: list[Line]) -> list[Line]:
    """`lines` when given, else narration then dialogue: what is spoken, in speaking order."""
    if lines:
        return [line for line in lines if line.text.strip()]
    spoken = [Line(text=narration)] if narration.strip() else []
    return spoken + [
        Line(speaker=line.character_id, text=line.text) for line in dialogue if line.text.strip()
    ]


class Scene(BaseModel):
    id: str
    number: int
    location: str
    time: str = "day"
    summary: str = ""
    character_ids: list[str] = Field(default_factory=list)
    narration: str = ""
    dialogue: list[DialogueLine] = Field(default_factory=list)
    lines: list[Line] = Field(default_factory=list)
    weather: str = ""  # "rain", "storm", "snow", "fog", "wind", "clear" or "" (not said)
    era: str = ""  # "ancient", "modern", "future" or "" (not said)
    props: list[str] = Field(default_factory=list)  # English nouns: "boat", "lantern"
    prompt: str = ""


class Screenplay(BaseModel):
    title: str
    language: Language
    style: str = ""
    seed: int = 0
    characters: list[Character] = Field(default_factory=list)
    scenes: list[Scene] = Field(default_factory=list)
    # What the writer wants the user to know, e.g. fewer scenes than asked for.
    notes: list[str] = Field(default_factory=list)


class Shot(BaseModel):
    """One storyboard shot. `duration` is a plan; tts may lengthen it to fit the speech."""

    id: str
    number: int
    scene_id: str
    shot_type: ShotType = "medium"
    camera_movement: CameraMovement = "static"
    prompt: str = ""
    description: str = ""
    location: str = ""
    time: str = "day"
    narration: str = ""
    dialogue: list[DialogueLine] = Field(default_factory=list)
    lines: list[Line] = Field(default_factory=list)
    weather: str = ""
    era: str = ""
    props: list[str] = Field(default_factory=list)
    character_ids: list[str] = Field(default_factory=list)
    duration: float = 4.0


class Storyboard(BaseModel):
    language: Language
    style: str = ""
    seed: int = 0
    characters: list[Character] = Field(default_factory=list)
    shots: list[Shot] = Field(default_factory=list)


class SpeechSegment(BaseModel):
    """A stretch of one shot's audio spoken by one voice, timed from the audio itself."""

    speaker: str  # "narrator" or a character id
    text: str
    start: float
    end: float


class ShotAudio(BaseModel):
    shot_id: str
    key: str  # object-store key of the WAV
    duration: float
    segments: list[SpeechSegment] = Field(default_factory=list)


Box = tuple[float, float, float, float]


class FigureBox(BaseModel):
    """Where a drawn character stands in a frame, as fractions of the frame (x right, y down).

    Boxes are `(x0, y0, x1, y1)` in 0..1, clipped to the frame. `face` covers the head from
    the hair to the chin (the part text must never cover); `body` the whole visible figure.
    The asset service reports them with each frame, the video service keeps subtitles clear.
    """

    character_id: str
    face: Box
    body: Box
