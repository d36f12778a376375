"""MaterialVideoService: start seed 003's material-to-video task (`material_video_job`)."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from storyreel_core.proto.storyreel.v1 import common_pb2, material_videos_pb2_grpc
from storyreel_core.resolutions import parse_resolution
from storyreel_core.rpc.messages import task_ref
from storyreel_core.rpc.server import caller_id
from storyreel_core.rpc.stage_servicer import parse_input as stage_input
from storyreel_core.task_launcher import TaskLauncher
from storyreel_workflow.material_video_job import MaterialVideoInput

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
KIND = "material_video"


def parse_input(request: common_pb2.StageRequest) -> MaterialVideoInput:
    """The request's material_video input, checked; ValidationFailed (1001) naming the first
    bad field."""
    spec = stage_input(MaterialVideoInput, request, KIND)
    parse_resolution(spec.resolution, "resolution")
    return spec


class MaterialVideoServicer(material_videos_pb2_grpc.MaterialVideoServiceServicer):
    def __init__(self, launcher: TaskLauncher) -> None:
        self.launcher = launcher

    async def StartMaterialVideo(
        self, request: common_pb2.StageRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        spec = parse_input(request)
        task = await self.launcher.start(
            service="workflow",
            kind=KIND,
            owner_id=caller_id(context),
            payload=spec.model_dump(mode="json"),
            total=spec.multi_video_count,
        )
        # About 20 s of planning and voices, then each cut.
        return task_ref(task, estimated_time=20 + 15 * spec.multi_video_count)
