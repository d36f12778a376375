"""Seed 002's one-click render options: the bounds, written once.

The gateway validates `POST /pipeline/render` with these (adding what only it reads: the
persona and conversation ids), the workflow service validates the `RenderRequest` it receives
with them again, and `stages.proto`'s `RenderOptions` carries them between the two with the
same field names (`storyreel_core.rpc.messages`). Sizes are vertical: "720p" is 720x1280.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from storyreel_core.drama_models import Transition
from storyreel_core.resolutions import RESOLUTION_PATTERN
from storyreel_core.subtitle_templates import TemplateId

INT32_MAX = 2**31 - 1
# Scenes a render's screenplay is split into when `scene_count` is not given: the studio's
# default (a "medium" script, storyreel_script.script_rules.LENGTH_SCENES), also what the
# render's cost check and estimated time count. A story is split, never padded.
DEFAULT_SCENE_COUNT = 6
Seed = Annotated[int, Field(ge=0, le=INT32_MAX)]


class ImageOptions(BaseModel):
    resolution: str | None = Field(
        default=None, max_length=20, pattern=RESOLUTION_PATTERN, examples=["768x512"]
    )
    num_steps: int = Field(default=4, ge=1, le=100)
    cfg_scale: float = Field(default=1.5, ge=0, le=30)
    seed: Seed | None = None


class VideoOptions(BaseModel):
    fps: int = Field(default=24, ge=1, le=60)
    resolution: str = Field(
        default="720p",
        max_length=20,
        pattern=RESOLUTION_PATTERN,
        examples=["720p", "1080x1920"],
        description="360p | 480p | 540p | 720p | 1080p (vertical 9:16) or WxH, sides 64-4096",
    )
    transition: Transition = "crossfade"


class RenderOptions(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    scene_count: int | None = Field(default=None, ge=1, le=30)
    shots_per_scene: int = Field(default=1, ge=1, le=4)
    image: ImageOptions = Field(default_factory=ImageOptions)
    video: VideoOptions = Field(default_factory=VideoOptions)
    voice: str | None = Field(
        default=None,
        max_length=80,
        examples=["narrator-zh"],
        validation_alias=AliasChoices("voice", "voice_id"),
        description="the narrator's voice id from GET /voices (also `voice_id`)",
    )
    audio_provider: str | None = Field(
        default=None,
        max_length=80,
        validation_alias=AliasChoices("audio_provider", "provider"),
        description="the speech provider (also `provider`); default offline",
    )
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    music: bool = True
    seed: Seed = 0
    ai_provider: str | None = Field(
        default=None,
        max_length=64,
        description="a text provider of GET /providers for the screenplay; unset = offline",
        examples=["offline"],
    )
    model: str | None = Field(
        default=None, max_length=200, description="one of the provider's text models"
    )
    image_provider: str | None = Field(
        default=None,
        max_length=64,
        description="an image provider of GET /providers for the frames; unset = offline"
        " (the procedural renderer)",
        examples=["offline"],
    )
    image_model: str | None = Field(
        default=None, max_length=200, description="one of the provider's image models"
    )
    video_provider: str | None = Field(
        default=None,
        max_length=64,
        description="a video provider of GET /providers for each shot's motion (start frame ="
        " the shot's image); unset = camera motion over the stills. A shot whose clip fails"
        " keeps camera motion and the result's `motion.kept_camera_motion` names it",
        examples=["offline"],
    )
    video_model: str | None = Field(
        default=None, max_length=200, description="one of the provider's video models"
    )
    budget: float | None = Field(
        default=None,
        ge=0,
        description="US dollars the provider calls may cost: refused with 400 when the"
        " estimate is higher, stopped when the spend reaches it",
    )
    subtitle_template: TemplateId | None = Field(
        default=None,
        description="a dynamic subtitle template of GET /dynamic-subtitles/templates for the"
        " burned-in subtitles; unset = classic",
    )


class WorkflowRenderOptions(RenderOptions):
    """The options as the workflow service takes them: plus the persona the gateway checked is
    the caller's (`persona_id`); the script stage hands it to GenerateScript, whose service
    builds the persona's prompt in the story's language."""

    persona_id: str = Field(default="", max_length=64)
