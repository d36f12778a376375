"""`GET /providers`: the AI providers this deployment may call, as requests name them.

The gateway loads the same providers file as every service (STORYREEL_PROVIDERS), so it
describes the providers itself; their voices come from the tts service (`ListVoices`), the
process that speaks them. Neither keys nor base URLs are ever part of the answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from storyreel_core.errors import AppError
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import common_pb2
from storyreel_core.rpc.clients import call
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok

router = APIRouter(tags=["providers"], responses=ERROR_RESPONSES)
log = get_logger("storyreel.gateway")


class ProviderVoice(BaseModel):
    id: str
    language: str
    gender: str
    description: str


class ProviderPrices(BaseModel):
    """US dollars per unit, as configured (0 = free or not metered)."""

    input_per_1m_tokens: float
    output_per_1m_tokens: float
    per_1k_characters: float
    per_image: float
    per_second: float


class ProviderOut(BaseModel):
    name: str = Field(description="what requests send as `ai_provider` / `audio_provider`")
    type: str = Field(examples=["openai", "elevenlabs", "piper", "offline"])
    modalities: list[str] = Field(examples=[["text"]])
    models: dict[str, list[str]] = Field(
        description="models per modality; the first is the default", examples=[{"text": ["m"]}]
    )
    voices: list[ProviderVoice] = Field(default_factory=list)
    max_concurrency: int
    requests_per_minute: int | None
    prices: ProviderPrices
    fallback: list[str]


@router.get("/providers", response_model=Envelope[list[ProviderOut]])
async def list_providers(state: State, user: CurrentUser) -> dict[str, Any]:
    """Configured providers with their modalities, models, limits, prices and voices."""
    described = state.providers.describe()
    try:
        listed = await call(state.stubs.tts.ListVoices, common_pb2.Empty(), user_id=user["_id"])
    except AppError as exc:  # the configuration still answers while the tts service is away
        log.warning("providers.voices.unavailable", error=exc.message)
        listed = None
    by_name = {entry["name"]: entry for entry in described}
    for voice in listed.voices if listed is not None else []:
        # Voices name their provider; those that do not are the built-in offline engine's.
        owner = getattr(voice, "provider", "") or "offline"
        entry = by_name.get(owner)
        if entry is not None and "speech" in entry["modalities"]:
            entry["voices"].append(
                {
                    "id": voice.id,
                    "language": voice.language,
                    "gender": voice.gender,
                    "description": voice.description,
                }
            )
    return ok(described)
