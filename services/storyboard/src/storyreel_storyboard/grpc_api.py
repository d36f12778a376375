"""The StoryboardService servicer."""

from __future__ import annotations

from typing import Any

import grpc

from storyreel_core.proto.storyreel.v1 import common_pb2, stages_pb2_grpc
from storyreel_core.rpc.stage_servicer import start_stage
from storyreel_core.task_launcher import TaskLauncher
from storyreel_storyboard.plan_job import PlanInput


class StoryboardServicer(stages_pb2_grpc.StoryboardServiceServicer):
    def __init__(self, launcher: TaskLauncher) -> None:
        self.launcher = launcher

    async def PlanShots(
        self, request: common_pb2.StageRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> common_pb2.TaskRef:
        return await start_stage(
            self.launcher, request, context, service="storyboard", kind="plan", model=PlanInput
        )
