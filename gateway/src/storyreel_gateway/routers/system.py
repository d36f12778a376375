"""`/health`, `/ready` and `/api/v1/voices`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from storyreel_core.proto.storyreel.v1 import stages_pb2
from storyreel_core.rpc.clients import call
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.json_body import CheckedRoute

router = APIRouter(route_class=CheckedRoute, tags=["system"])
voices_router = APIRouter(route_class=CheckedRoute, tags=["audio"], responses=ERROR_RESPONSES)


class VoiceOut(BaseModel):
    id: str
    language: str
    gender: str
    description: str
    provider: str


class HealthOut(BaseModel):
    status: str


@router.get("/health", response_model=Envelope[HealthOut])
async def health() -> dict[str, Any]:
    return ok({"status": "ok"})


@voices_router.get("/voices", response_model=Envelope[list[VoiceOut]])
async def voices(
    state: State,
    user: CurrentUser,
    provider: Annotated[
        str,
        Query(max_length=80, description="one speech provider's voices (default: every one's)"),
    ] = "",
) -> dict[str, Any]:
    """The voices each speech provider offers: `id` is what requests send as `voice`
    (or `voice_id`) with `audio_provider` = `provider`. An unknown provider is 400."""
    msg = await call(
        state.stubs.tts.ListVoices,
        stages_pb2.ListVoicesRequest(provider=provider),
        user_id=user["_id"],
    )
    return ok(
        [
            {
                "id": v.id,
                "language": v.language,
                "gender": v.gender,
                "description": v.description,
                "provider": v.provider,
            }
            for v in msg.voices
        ]
    )
