"""`/health` and `/health/live` (also under `/api/v1`) and `/api/v1/voices`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from storyreel_core.errors import Code
from storyreel_core.proto.storyreel.v1 import stages_pb2
from storyreel_core.rpc.clients import call
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.monitoring.health import health_report

router = APIRouter(route_class=CheckedRoute, tags=["system"])
voices_router = APIRouter(route_class=CheckedRoute, tags=["audio"], responses=ERROR_RESPONSES)


class VoiceOut(BaseModel):
    id: str
    language: str
    gender: str
    description: str
    provider: str


class DependencyOut(BaseModel):
    status: Literal["up", "down", "off"]
    latency_ms: float | None = None
    error: str | None = None


class DependenciesOut(BaseModel):
    document_store: DependencyOut
    object_store: DependencyOut
    bus: DependencyOut
    services: dict[str, DependencyOut]


class HealthOut(BaseModel):
    status: Literal["healthy", "unhealthy"]
    version: str
    timestamp: str
    down: list[str]
    dependencies: DependenciesOut


class UnhealthyOut(BaseModel):
    code: int
    message: str
    error: dict[str, Any]
    data: HealthOut


@router.get(
    "/health",
    response_model=Envelope[HealthOut],
    responses={503: {"model": UnhealthyOut, "description": "a dependency is down"}},
)
async def health(state: State) -> Any:
    """Each dependency probed in parallel (services by `grpc.health.v1` Check, ~2 s deadline):
    200 when all are up, 503 with the same report (and code 5003) when one is down. A bus
    that is `off` (no `STORYREEL_NATS_URL`) does not make the gateway unhealthy."""
    report = await health_report(state)
    if report["status"] == "healthy":
        return ok(report)
    body = {
        "code": int(Code.UNAVAILABLE),
        "message": "a dependency is down",
        "error": {"field": "dependencies", "reason": ", ".join(report["down"]) + " down"},
        "data": report,
    }
    return JSONResponse(body, status_code=503)


class LiveOut(BaseModel):
    status: Literal["alive"]


@router.get("/health/live", response_model=Envelope[LiveOut])
async def live() -> dict[str, Any]:
    """Liveness: the process serves HTTP. Probes nothing, so a down dependency never makes an
    orchestrator restart every gateway (container and k8s probes use this; `/health` is the
    dependency report)."""
    return ok({"status": "alive"})


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
