"""Starting the studio's stage tasks from the gateway for seed 004's drafts and media.

Each call is a gRPC start RPC of the service that owns the work (no drawing or encoding in the
gateway): the script service's `GenerateScript` without a drama writes a draft's screenplay
(the task's result only; the draft becomes a drama on confirm), the asset
service's `frames` stage draws a draft's character sheets (a storyboard with no shots) or one
generated image (a storyboard with one shot, through the request's image provider), and the
video service's final cut (`RenderFinalCut` of explicit shots, job kind `final_cut`) animates an
image into a video (through the request's video provider, else camera motion over the still).
"""

from __future__ import annotations

from typing import Any

from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import (
    common_pb2,
    script_pb2,
    stages_pb2_grpc,
    tasks_pb2,
    videos_pb2,
)
from storyreel_core.providers.config import OFFLINE, OFFLINE_MODEL
from storyreel_core.providers.ports import Modality
from storyreel_core.providers.registry import ModelChoice, ProviderRegistry
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import stage_request, task_from_proto, to_message
from storyreel_gateway.state import GatewayState


def _models(registry: ProviderRegistry, modality: Modality, name: str) -> list[str]:
    config = registry.providers[name].config
    return config.models(modality) or ([OFFLINE_MODEL] if config.type == OFFLINE else [])


def choose_model(
    registry: ProviderRegistry,
    modality: Modality,
    provider: str | None,
    model: str | None,
    *,
    field: str = "model",
) -> ModelChoice:
    """The provider and model a seed 004 request names. Seed 004 names only a `model`: without
    a `provider` the configured provider of `modality` that lists that model is taken. 400
    (1001) naming the configured providers and models when nothing matches."""
    provider = (provider or "").strip()
    model = (model or "").strip()
    if not provider and model:
        offered = {name: _models(registry, modality, name) for name in registry.names(modality)}
        for name, models in offered.items():
            if model in models:
                return registry.resolve(modality, name, model, field="provider", model_field=field)
        listed = [f"{name}: {', '.join(models)}" for name, models in offered.items()]
        raise ValidationFailed(
            f"unknown {modality} model {model!r}; configured: {'; '.join(listed)}", field=field
        )
    return registry.resolve(modality, provider, model, field="provider", model_field=field)


def _request(kind: str, payload: dict[str, Any], task_id: str = "") -> common_pb2.StageRequest:
    return stage_request(kind, payload, task_id=task_id)


async def start_screenplay(
    state: GatewayState, owner_id: str, request: script_pb2.GenerateScriptRequest
) -> str:
    """The script service's `generate_script` task with no `drama_id`: story → Screenplay as
    the task result (`result.screenplay`), nothing stored."""
    ref = await call(state.stubs.script.GenerateScript, request, user_id=owner_id)
    return str(ref.task_id)


async def start_frames(
    state: GatewayState, owner_id: str, payload: dict[str, Any], task_id: str = ""
) -> str:
    """The asset service's `frames` stage. A `task_id` (a draft's own, derived from its id)
    makes the call idempotent: calling again finds the task instead of starting another."""
    stub = stages_pb2_grpc.AssetServiceStub(state.stubs.by_service["asset"])
    ref = await call(stub.RenderFrames, _request("frames", payload, task_id), user_id=owner_id)
    return str(ref.task_id)


async def start_final_cut(state: GatewayState, owner_id: str, payload: dict[str, Any]) -> str:
    """The video service's final cut of explicit shots (stills + motion → MP4 and thumbnail):
    `payload` holds a RenderFinalCutRequest's fields, its shots as `cut_shots`."""
    request = to_message(payload, videos_pb2.RenderFinalCutRequest())
    ref = await call(state.stubs.videos.RenderFinalCut, request, user_id=owner_id)
    return str(ref.task_id)


async def read_task(state: GatewayState, owner_id: str, task_id: str) -> dict[str, Any]:
    """The task as `GET /tasks/{id}` reads it (NotFound for another owner's)."""
    msg = await call(
        state.stubs.tasks.GetTask, tasks_pb2.GetTaskRequest(task_id=task_id), user_id=owner_id
    )
    return task_from_proto(msg)
