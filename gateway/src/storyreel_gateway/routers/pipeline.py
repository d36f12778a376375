"""`/pipeline/render`: seed 002's one-click story → MP4, started on the workflow service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import AliasChoices, BaseModel, Field

from storyreel_core.errors import ValidationFailed
from storyreel_core.persona_text import persona_style
from storyreel_core.proto.storyreel.v1 import stages_pb2
from storyreel_core.render_models import RenderOptions as CoreRenderOptions
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import to_message
from storyreel_gateway.default_budget import effective_budget
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.fields import NOT_BLANK
from storyreel_gateway.json_body import BODY_LIMIT_KEY, CheckedRoute
from storyreel_gateway.links import TASK_LINKS
from storyreel_gateway.routers.conversations import check_conversation, start_in_conversation
from storyreel_gateway.routers.personas import fetch_persona

router = APIRouter(
    route_class=CheckedRoute, prefix="/pipeline", tags=["pipeline"], responses=ERROR_RESPONSES
)

# A 200,000-character story, JSON-escaped (\\uXXXX is six bytes), and the options.
RENDER_BODY = 2 * 1024 * 1024


# The options' bounds are storyreel_core.render_models' (the workflow service checks them
# again); the persona and the conversation are the gateway's to read.
class RenderOptions(CoreRenderOptions):
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
        story=body.story, style=style, options=to_message(options, stages_pb2.RenderOptions())
    )
    ref = await call(state.stubs.workflow.StartRender, request, user_id=user["_id"])
    await start_in_conversation(state, user["_id"], conversation_id, ref.task_id, "render")
    return ok({"task_id": ref.task_id, "status": ref.status, "estimated_time": ref.estimated_time})
