"""`/personas` (seed 003): narrator personas, stored by the script service.

Presets (`GET /personas/preset`, ids `preset_*`) are shared and read-only (PUT/DELETE → 403,
code 1004); a user's own personas are theirs alone (another user's id → 404, code 1002).
`persona_id` on `POST /dramas/{id}/scripts/generate` and in `/pipeline/render` `options`
applies one: its style (and tone) shape the screenplay, its `voice` narrates the render.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import script_pb2, stages_pb2
from storyreel_core.rpc.clients import call
from storyreel_gateway.deps import CurrentUser, Paging, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ListEnvelope, ok, paged
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.state import GatewayState

router = APIRouter(
    route_class=CheckedRoute, prefix="/personas", tags=["personas"], responses=ERROR_RESPONSES
)

PersonaId = Annotated[str, Path(min_length=1, max_length=64)]
Keyword = Annotated[str, Field(min_length=1, max_length=40)]
Voice = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9._-]*$", examples=["narrator-zh"])]
_TYPE = AliasChoices("persona_type", "type", "personaType")
_AUDIENCE = AliasChoices("target_audience", "targetAudience")
_PROMPT = AliasChoices("custom_prompt", "customPrompt")


class PersonaIn(BaseModel):
    """Seed 003's fields (`type`, and camelCase names, are accepted as aliases)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, examples=["营销专家"])
    persona_type: str = Field(default="custom", min_length=1, max_length=40, validation_alias=_TYPE)
    style: str = Field(default="", max_length=100, examples=["persuasive"])
    target_audience: str = Field(default="", max_length=200, validation_alias=_AUDIENCE)
    characteristics: str = Field(default="", max_length=1000)
    tone: str = Field(default="", max_length=100, examples=["友好且具有说服力"])
    keywords: list[Keyword] = Field(default_factory=list, max_length=20)
    custom_prompt: str = Field(default="", max_length=2000, validation_alias=_PROMPT)
    voice: Voice = Field(default="", description="narrator voice id (GET /voices)")


class PersonaUpdate(BaseModel):
    """All fields optional: those present replace the stored ones."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    persona_type: str | None = Field(
        default=None, min_length=1, max_length=40, validation_alias=_TYPE
    )
    style: str | None = Field(default=None, max_length=100)
    target_audience: str | None = Field(default=None, max_length=200, validation_alias=_AUDIENCE)
    characteristics: str | None = Field(default=None, max_length=1000)
    tone: str | None = Field(default=None, max_length=100)
    keywords: list[Keyword] | None = Field(default=None, max_length=20)
    custom_prompt: str | None = Field(default=None, max_length=2000, validation_alias=_PROMPT)
    voice: Voice | None = None


class PersonaOut(BaseModel):
    id: str
    name: str
    persona_type: str
    style: str
    target_audience: str
    characteristics: str
    tone: str
    keywords: list[str]
    custom_prompt: str
    voice: str
    is_preset: bool
    created_at: str
    updated_at: str


def persona_out(msg: script_pb2.Persona) -> dict[str, Any]:
    return {
        "id": msg.id,
        "name": msg.name,
        "persona_type": msg.persona_type,
        "style": msg.style,
        "target_audience": msg.target_audience,
        "characteristics": msg.characteristics,
        "tone": msg.tone,
        "keywords": list(msg.keywords),
        "custom_prompt": msg.custom_prompt,
        "voice": msg.voice,
        "is_preset": msg.is_preset,
        "created_at": msg.created_at,
        "updated_at": msg.updated_at,
    }


def fields_to_proto(values: dict[str, Any]) -> script_pb2.PersonaFields:
    keywords = values.pop("keywords", None)
    fields = script_pb2.PersonaFields(**{k: v for k, v in values.items() if v is not None})
    if keywords is not None:
        fields.keywords.extend(keywords)
        fields.keywords_set = True
    return fields


async def check_voice(state: GatewayState, user_id: str, voice: str | None) -> None:
    """400 (1001, field `voice`) unless `voice` is empty or a voice of `GET /voices`."""
    if not voice:
        return
    msg = await call(state.stubs.tts.ListVoices, stages_pb2.ListVoicesRequest(), user_id=user_id)
    known = sorted(v.id for v in msg.voices)
    if voice not in known:
        raise ValidationFailed(
            f"voice must be one of GET /voices: {', '.join(known)}", field="voice"
        )


async def fetch_persona(state: GatewayState, user_id: str, persona_id: str) -> dict[str, Any]:
    """The caller's persona or a preset as PersonaOut's dict; AppError 404 for anything else."""
    msg = await call(
        state.stubs.script.GetPersona,
        script_pb2.GetPersonaRequest(id=persona_id),
        user_id=user_id,
    )
    return persona_out(msg)


async def _list(
    state: GatewayState, user_id: str, paging: Any, presets_only: bool
) -> dict[str, Any]:
    request = script_pb2.ListPersonasRequest(
        page=paging.page, per_page=paging.per_page, presets_only=presets_only
    )
    msg = await call(state.stubs.script.ListPersonas, request, user_id=user_id)
    return paged(
        [persona_out(p) for p in msg.personas],
        page=paging.page,
        per_page=paging.per_page,
        total=msg.total,
    )


@router.get("", response_model=ListEnvelope[PersonaOut])
async def list_personas(state: State, user: CurrentUser, paging: Paging) -> dict[str, Any]:
    """The presets, then the caller's own personas (oldest first)."""
    return await _list(state, user["_id"], paging, presets_only=False)


# Declared before `/{persona_id}` so `preset` is never read as an id.
@router.get("/preset", response_model=ListEnvelope[PersonaOut])
async def preset_personas(state: State, user: CurrentUser, paging: Paging) -> dict[str, Any]:
    return await _list(state, user["_id"], paging, presets_only=True)


@router.post("", status_code=201, response_model=Envelope[PersonaOut])
async def create_persona(body: PersonaIn, state: State, user: CurrentUser) -> dict[str, Any]:
    await check_voice(state, user["_id"], body.voice)
    request = script_pb2.CreatePersonaRequest(fields=fields_to_proto(body.model_dump()))
    return ok(
        persona_out(await call(state.stubs.script.CreatePersona, request, user_id=user["_id"]))
    )


@router.get("/{persona_id}", response_model=Envelope[PersonaOut])
async def get_persona(persona_id: PersonaId, state: State, user: CurrentUser) -> dict[str, Any]:
    return ok(await fetch_persona(state, user["_id"], persona_id))


@router.put("/{persona_id}", response_model=Envelope[PersonaOut])
async def update_persona(
    persona_id: PersonaId, body: PersonaUpdate, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Fields present replace the stored ones (`null` means absent); presets answer 403."""
    values = body.model_dump(include=body.model_fields_set)
    await fetch_persona(state, user["_id"], persona_id)  # 404 before the body is judged
    await check_voice(state, user["_id"], body.voice)
    request = script_pb2.UpdatePersonaRequest(id=persona_id, fields=fields_to_proto(values))
    return ok(
        persona_out(await call(state.stubs.script.UpdatePersona, request, user_id=user["_id"]))
    )


@router.delete("/{persona_id}", response_model=Envelope[dict[str, str]])
async def delete_persona(persona_id: PersonaId, state: State, user: CurrentUser) -> dict[str, Any]:
    request = script_pb2.GetPersonaRequest(id=persona_id)
    await call(state.stubs.script.DeletePersona, request, user_id=user["_id"])
    return ok({"persona_id": persona_id})
