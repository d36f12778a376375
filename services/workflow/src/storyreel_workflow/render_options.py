"""The one-click render request of seed 002, validated before any task exists."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from storyreel_core.render_models import WorkflowRenderOptions
from storyreel_core.resolutions import parse_resolution

# The options' bounds live in storyreel_core.render_models (the gateway validates with them);
# the persona's instructions come on top, from the gateway.


class RenderInput(BaseModel):
    story: str = Field(max_length=200_000)
    style: str = Field(default="", max_length=200)
    options: WorkflowRenderOptions = Field(default_factory=WorkflowRenderOptions)

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
