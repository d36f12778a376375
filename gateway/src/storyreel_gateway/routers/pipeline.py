"""`/pipeline/render`: seed 002's one-click story → MP4, started on the workflow service."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from storyreel_core.drama_models import Transition
from storyreel_core.proto.storyreel.v1 import stages_pb2
from storyreel_core.rpc.clients import call
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.fields import Seed

router = APIRouter(prefix="/pipeline", tags=["pipeline"], responses=ERROR_RESPONSES)


class ImageOptions(BaseModel):
    resolution: str | None = Field(default=None, examples=["768x512"])
    num_steps: int = Field(default=4, ge=1, le=100)
    cfg_scale: float = Field(default=1.5, ge=0, le=30)
    seed: Seed | None = None


class VideoOptions(BaseModel):
    fps: int = Field(default=24, ge=1, le=60)
    resolution: str = Field(default="720p", examples=["720p", "1080x1920"])
    transition: Transition = "crossfade"


class RenderOptions(BaseModel):
    scene_count: int | None = Field(default=None, ge=1, le=30)
    shots_per_scene: int = Field(default=1, ge=1, le=4)
    image: ImageOptions = Field(default_factory=ImageOptions)
    video: VideoOptions = Field(default_factory=VideoOptions)
    voice: str | None = Field(default=None, examples=["narrator-zh"])
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
    budget: float | None = Field(
        default=None,
        ge=0,
        description="US dollars the provider calls may cost: refused with 400 when the"
        " estimate is higher, stopped when the spend reaches it",
    )


class RenderBody(BaseModel):
    story: str = Field(
        min_length=1, max_length=200_000, examples=["一位独行武者穿越废土城市寻找真相"]
    )
    style: str = Field(default="", max_length=200, examples=["赛博朋克"])
    options: RenderOptions = Field(default_factory=RenderOptions)


class Accepted(BaseModel):
    task_id: str
    status: str
    estimated_time: int


@router.post("/render", status_code=202, response_model=Envelope[Accepted])
async def render(body: RenderBody, state: State, user: CurrentUser) -> dict[str, Any]:
    request = stages_pb2.RenderRequest(
        story=body.story,
        style=body.style,
        options_json=json.dumps(body.options.model_dump(mode="json"), ensure_ascii=False),
    )
    ref = await call(state.stubs.workflow.StartRender, request, user_id=user["_id"])
    return ok({"task_id": ref.task_id, "status": ref.status, "estimated_time": ref.estimated_time})
