"""Seed 001's workflow vocabulary, shared by the gateway (the request's schema) and the workflow
service (which validates again): the stages in order, the statuses, the input types, and the
preferences the workflow understands.

A workflow runs the studio's own stages on a drama of its owner, one after the other:
`script` (GenerateScript) → `assets` (a character sheet per character of the script) →
`storyboard` (GenerateStoryboards, shots planned only) → `frames` (regenerate-image per shot) →
`audio` (shot audio per shot) → `video` (a clip per shot) → `final` (the final cut).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from storyreel_core.drama_models import Transition
from storyreel_core.resolutions import RESOLUTION_PATTERN
from storyreel_core.subtitle_templates import TemplateId

STAGES: tuple[str, ...] = ("script", "assets", "storyboard", "frames", "audio", "video", "final")
Stage = Literal["script", "assets", "storyboard", "frames", "audio", "video", "final"]
WorkflowStatus = Literal["pending", "running", "paused", "completed", "failed", "cancelled"]
WORKFLOW_STATUSES: tuple[str, ...] = (
    "pending",
    "running",
    "paused",
    "completed",
    "failed",
    "cancelled",
)
FINISHED: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
InputType = Literal["prompt", "novel", "markdown", "file"]
INPUT_TYPES: tuple[str, ...] = ("prompt", "novel", "markdown", "file")
MAX_INPUT_BYTES = 1024 * 1024  # the script service's limit for a source text
MAX_NAME = 100  # the drama it creates carries the name (dramas: 1-100 characters)


class WorkflowPreferences(BaseModel):
    """`options.preferences`: free-form, with these keys understood (others are kept, unused).

    Sizes are vertical like everywhere else ("360p" is 360×640); `scene_count` is the most scenes
    the story is split into (none invented); `seed` makes the screenplay's shots and the frames
    repeatable."""

    model_config = ConfigDict(extra="allow")

    style: str = Field(default="", max_length=200)
    scene_count: int | None = Field(default=None, ge=1, le=30)
    language: Literal["zh", "en"] | None = None
    resolution: str = Field(default="720p", max_length=20, pattern=RESOLUTION_PATTERN)
    frame_rate: int = Field(default=24, ge=1, le=60)
    aspect_ratio: Literal["9:16", "16:9", "1:1"] = "9:16"
    shots_per_scene: int = Field(default=1, ge=1, le=6)
    voice: str = Field(default="", max_length=80)
    audio_provider: str = Field(default="", max_length=80)
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    image_provider: str = Field(default="", max_length=64)
    image_model: str = Field(default="", max_length=200)
    # The frames' size (vertical like `resolution`); None = the video's `resolution`.
    image_resolution: str | None = Field(default=None, max_length=20, pattern=RESOLUTION_PATTERN)
    # An image model's sampling steps and guidance (seed 002's image style); None = its own.
    num_steps: int | None = Field(default=None, ge=1, le=100)
    cfg_scale: float | None = Field(default=None, ge=0, le=30)
    # The frames' seed when it differs from `seed` (seed 002's `image.seed`).
    image_seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    # A configured video provider (GET /providers) and model for each shot's motion in the
    # final cut; "" = camera motion over the stills.
    video_provider: str = Field(default="", max_length=64)
    video_model: str = Field(default="", max_length=200)
    music: bool = True
    subtitles: bool = True
    # The `video` stage renders a clip per shot for the studio's editor; False skips it (no
    # task: the stage completes at once). A one-click render skips it: its final cut
    # animates each shot itself and would not use the clips.
    clips: bool = True
    # A dynamic subtitle template (GET /dynamic-subtitles/templates); None = classic.
    subtitle_template: TemplateId | None = None
    transition: Transition = "crossfade"
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    # US dollars the whole workflow's provider calls may cost: the script may use all of it,
    # each later stage's tasks share equally what the finished stages left. None = no limit.
    budget: float | None = Field(default=None, ge=0)
    # A persona of the owner's (or a preset): its style and tone shape the script.
    persona_id: str = Field(default="", max_length=64)
    # Review points: after each of these stages the workflow pauses itself, so its owner can
    # look at (and edit through the studio API) what the stage made; resume continues.
    pause_after: list[Stage] = Field(default_factory=list, max_length=len(STAGES))
