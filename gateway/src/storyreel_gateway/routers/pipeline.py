"""`/pipeline/render`: seed 002's one-click story → MP4, started on the workflow service."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from storyreel_core.drama_models import Transition
from storyreel_core.errors import ValidationFailed
from storyreel_core.persona_text import persona_style
from storyreel_core.proto.storyreel.v1 import stages_pb2
from storyreel_core.resolutions import RESOLUTION_PATTERN
from storyreel_core.rpc.clients import call
from storyreel_core.subtitle_templates import TemplateId
from storyreel_gateway.default_budget import effective_budget
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.fields import NOT_BLANK, Seed
from storyreel_gateway.json_body import BODY_LIMIT_KEY, CheckedRoute
from storyreel_gateway.links import TASK_LINKS
from storyreel_gateway.routers.conversations import check_conversation, start_in_conversation
from storyreel_gateway.routers.personas import fetch_persona

router = APIRouter(
    route_class=CheckedRoute, prefix="/pipeline", tags=["pipeline"], responses=ERROR_RESPONSES
)

# A 200,000-character story, JSON-escaped (\\uXXXX is six bytes), and the options.
RENDER_BODY = 2 * 1024 * 1024


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
    subtitle_template: TemplateId | None = Field(
        default=None,
        description="a dynamic subtitle template of GET /dynamic-subtitles/templates for the"
        " burned-in subtitles; unset = classic",
    )


class RenderBody(BaseModel):
    story: str = Field(
        min_length=1,
        max_length=200_000,
        pattern=NOT_BLANK,
        examples=["一位独行武者穿越废土城市寻找真相"],
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


async def check_voice(state: Any, user_id: str, provider: str | None, voice: str | None) -> None:
    """400 (1001) before any task for an unknown speech provider or voice, naming the known."""
    if not (provider or voice):
        return
    listed = await call(
        state.stubs.tts.ListVoices,
        stages_pb2.ListVoicesRequest(provider=provider or "offline"),
        user_id=user_id,
    )
    known = {v.id for v in listed.voices}
    if voice and voice not in known and voice != "narrator":
        raise ValidationFailed(
            f"unknown voice {voice!r} for provider {provider or 'offline'!r};"
            f" available: {', '.join(sorted(known))}",
            field="options.voice",
        )


@router.post(
    "/render",
    status_code=202,
    responses=TASK_LINKS,
    response_model=Envelope[Accepted],
    openapi_extra={BODY_LIMIT_KEY: RENDER_BODY},
)
async def render(body: RenderBody, state: State, user: CurrentUser) -> dict[str, Any]:
    """Starts the render's task, which runs a workflow over the studio stages on a new drama
    (`storyreel_workflow.render_job`). `options.persona_id` applies a persona: its style and
    tone become the style when `style` is empty, the script stage gives an LLM screenwriter
    its whole prompt (`persona_text.persona_prompt`), and its voice narrates unless
    `options.voice` names one. `conversation_id` (at the top or in `options`, also
    `conversationId`) gets a message when the render ends."""
    await check_voice(state, user["_id"], body.options.audio_provider, body.options.voice)
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
        # The script stage gives an LLM screenwriter the persona whole (tone, audience,
        # custom prompt); the offline one reads the style.
        options["persona_id"] = persona["id"]
    options["budget"] = effective_budget(body.options.budget, user, state.settings)
    request = stages_pb2.RenderRequest(
        story=body.story, style=style, options_json=json.dumps(options, ensure_ascii=False)
    )
    ref = await call(state.stubs.workflow.StartRender, request, user_id=user["_id"])
    await start_in_conversation(state, user["_id"], conversation_id, ref.task_id, "render")
    return ok({"task_id": ref.task_id, "status": ref.status, "estimated_time": ref.estimated_time})
