"""`/pipeline/render`: seed 002's one-click story → MP4, started on the workflow service."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from pydantic import AliasChoices, BaseModel, Field

from storyreel_core.drama_models import Transition
from storyreel_core.persona_text import persona_style
from storyreel_core.proto.storyreel.v1 import stages_pb2
from storyreel_core.rpc.clients import call
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.fields import Seed
from storyreel_gateway.routers.conversations import check_conversation, start_in_conversation
from storyreel_gateway.routers.personas import fetch_persona

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
    persona_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        validation_alias=AliasChoices("persona_id", "personaId"),
        description="a persona: its style and tone when `style` is empty, its voice narrates",
    )
    conversation_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        validation_alias=AliasChoices("conversation_id", "conversationId"),
    )


class RenderBody(BaseModel):
    story: str = Field(
        min_length=1, max_length=200_000, examples=["一位独行武者穿越废土城市寻找真相"]
    )
    style: str = Field(default="", max_length=200, examples=["赛博朋克"])
    options: RenderOptions = Field(default_factory=RenderOptions)
    conversation_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        validation_alias=AliasChoices("conversation_id", "conversationId"),
        description="the caller's conversation that gets a message when the render ends",
    )


class Accepted(BaseModel):
    task_id: str
    status: str
    estimated_time: int


@router.post("/render", status_code=202, response_model=Envelope[Accepted])
async def render(body: RenderBody, state: State, user: CurrentUser) -> dict[str, Any]:
    """`options.persona_id` applies a persona: its style and tone become the style when `style`
    is empty, and its voice narrates unless `options.voice` names one. `conversation_id` (at
    the top or in `options`, also `conversationId`) gets a message when the render ends."""
    conversation_id = body.conversation_id or body.options.conversation_id
    await check_conversation(state, user["_id"], conversation_id)
    style, options = (
        body.style,
        body.options.model_dump(mode="json", exclude={"persona_id", "conversation_id"}),
    )
    if body.options.persona_id:
        persona = await fetch_persona(state, user["_id"], body.options.persona_id)
        style = persona_style(persona, style)
        options["voice"] = options.get("voice") or persona["voice"] or None
    request = stages_pb2.RenderRequest(
        story=body.story, style=style, options_json=json.dumps(options, ensure_ascii=False)
    )
    ref = await call(state.stubs.workflow.StartRender, request, user_id=user["_id"])
    await start_in_conversation(state, user["_id"], conversation_id, ref.task_id, "render")
    return ok({"task_id": ref.task_id, "status": ref.status, "estimated_time": ref.estimated_time})
