"""The one-click render request of seed 002, validated before any task exists."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, Field, field_validator

from storyreel_core.drama_models import Transition
from storyreel_core.resolutions import parse_resolution

# Vertical 9:16 is the default: "720p" means 720 wide and 1280 tall.


class ImageOptions(BaseModel):
    resolution: str | None = None
    num_steps: int = Field(default=4, ge=1, le=100)
    cfg_scale: float = Field(default=1.5, ge=0, le=30)
    seed: int | None = None


class VideoOptions(BaseModel):
    fps: int = Field(default=24, ge=1, le=60)
    resolution: str = "720p"
    transition: Transition = "crossfade"


class RenderOptions(BaseModel):
    scene_count: int | None = Field(default=None, ge=1, le=30)
    shots_per_scene: int = Field(default=1, ge=1, le=4)
    image: ImageOptions = Field(default_factory=ImageOptions)
    video: VideoOptions = Field(default_factory=VideoOptions)
    voice: str | None = Field(default=None, validation_alias=AliasChoices("voice", "voice_id"))
    audio_provider: str | None = Field(
        default=None, validation_alias=AliasChoices("audio_provider", "provider")
    )
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    music: bool = True
    seed: int = 0
    # A configured text provider for the screenplay (GET /providers); None = offline.
    ai_provider: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=200)
    # A configured image provider and model for the frames (seed 001 §4); None = procedural.
    image_provider: str | None = Field(default=None, max_length=64)
    image_model: str | None = Field(default=None, max_length=200)
    # A configured video provider and model for each shot's motion; None = camera motion.
    video_provider: str | None = Field(default=None, max_length=64)
    video_model: str | None = Field(default=None, max_length=200)
    # US dollars the render's provider calls may cost: refused up front when the estimate
    # is higher, stopped when the spend reaches it. None = no limit.
    budget: float | None = Field(default=None, ge=0)
    # A persona of the caller's (or a preset): the script stage shapes the screenplay by it.
    persona_id: str = Field(default="", max_length=64)
    # A dynamic subtitle template for the final cut (checked by the gateway); None = classic.
    subtitle_template: str | None = Field(default=None, max_length=40)


class RenderInput(BaseModel):
    story: str = Field(max_length=200_000)
    style: str = Field(default="", max_length=200)
    options: RenderOptions = Field(default_factory=RenderOptions)

    @field_validator("story")
    @classmethod
    def story_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("story must not be empty")
        return value

    def video_size(self) -> tuple[int, int]:
        return parse_resolution(self.options.video.resolution, "options.video.resolution")

    def frame_size(self) -> tuple[int, int]:
        """Frames are drawn at the video's size unless the image resolution is asked for."""
        if self.options.image.resolution:
            return parse_resolution(self.options.image.resolution, "options.image.resolution")
        return self.video_size()
