"""`StartStageTask`: seed 002's stage endpoints, checked before any task exists.

The request's input (its oneof case names the kind) is validated against
`stage_tasks.MODELS` (400, 1001, naming the field), its providers and models are resolved
(400 naming the configured ones), a clip request is held to the render cost limit, and every
frame it names must be a frame of one of the caller's frames tasks (404, 1002, otherwise:
another user's frame is not found).
"""

from __future__ import annotations

import re
from typing import Any, TypeAlias

import grpc
from pydantic import BaseModel, ValidationError

from storyreel_core.errors import NotFound, ValidationFailed
from storyreel_core.proto.storyreel.v1 import common_pb2, stages_pb2
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.render_cost import check_render_cost
from storyreel_core.rpc.messages import first_error, from_message, task_ref
from storyreel_core.rpc.server import caller_id
from storyreel_core.task_launcher import TaskLauncher
from storyreel_workflow.pipeline_storyboard import StoryboardTask
from storyreel_workflow.stage_tasks import MODELS, ClipsTask, FramesTask, NarrationTask

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
# Where the frames stage stores a shot's frame (frames_job): the task id says whose it is.
FRAME_KEY = re.compile(r"^renders/(task_[0-9a-z_]{1,94})/frames/([A-Za-z0-9_-]{1,64})\.png$")


def parse_stage_task(request: stages_pb2.StageTaskRequest) -> BaseModel:
    kind = request.WhichOneof("input")
    model = MODELS.get(kind or "")
    if kind is None or model is None:
        raise ValidationFailed(f"kind must be one of {', '.join(MODELS)}", field="kind")
    try:
        return from_message(getattr(request, kind), model)
    except ValidationError as exc:
        raise first_error(exc) from exc


class StageTaskRpcs:
    """The StartStageTask RPC of WorkflowService (mixed into `WorkflowServicer`)."""

    launcher: TaskLauncher
    providers: ProviderRegistry
    max_pixel_frames: int

    def check_providers(self, spec: BaseModel) -> None:
        if isinstance(spec, StoryboardTask):
            self.providers.resolve("text", spec.ai_provider, spec.model)
        elif isinstance(spec, FramesTask):
            self.providers.resolve(
                "image",
                spec.image_provider,
                spec.image_model,
                field="image_style.image_provider",
                model_field="image_style.image_model",
            )
        elif isinstance(spec, ClipsTask):
            self.providers.resolve(
                "video",
                spec.video_provider,
                spec.video_model,
                field="video.video_provider",
                model_field="video.video_model",
            )

    async def check_frames(self, spec: ClipsTask, owner_id: str) -> None:
        """Each frame key must be a frame the caller's frames stage drew (404 otherwise)."""
        found: dict[str, set[str]] = {}
        for n, frame in enumerate(spec.frames):
            field = f"frames.{n}.frame"
            match = FRAME_KEY.match(frame.frame_key)
            if match is None:
                raise NotFound(f"frame {frame.frame_key!r} not found", field=field)
            task_id = match[1]
            if task_id not in found:
                try:
                    task = await self.launcher.tasks.get(task_id, owner_id)
                except NotFound:
                    raise NotFound(f"frame {frame.frame_key!r} not found", field=field) from None
                result = task.get("result") or {}
                found[task_id] = {f.get("key", "") for f in result.get("frames") or []}
            if frame.frame_key not in found[task_id]:
                raise NotFound(f"frame {frame.frame_key!r} not found", field=field)

    async def StartStageTask(
        self, request: stages_pb2.StageTaskRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        spec = parse_stage_task(request)
        kind = str(request.WhichOneof("input"))
        owner = caller_id(context)
        self.check_providers(spec)
        scenes = 1
        if isinstance(spec, ClipsTask):
            await self.check_frames(spec, owner)
            seconds = sum(f.duration for f in spec.frames)
            check_render_cost(
                spec.width, spec.height, spec.fps, seconds, self.max_pixel_frames,
                field="video.resolution",
            )  # fmt: skip
            scenes = len(spec.frames)
        elif isinstance(spec, FramesTask):
            scenes = len(spec.storyboard)
        elif isinstance(spec, NarrationTask):
            scenes = len(spec.lines)
        elif isinstance(spec, StoryboardTask):
            scenes = spec.scenes
        task = await self.launcher.start(
            service="workflow",
            kind=f"pipeline_{kind}",
            owner_id=owner,
            payload=spec.model_dump(mode="json"),
            total=2 if kind == "storyboard" else 1,
        )
        return task_ref(task, estimated_time=2 + 2 * scenes)
