"""Assemble the storyboard service."""

from __future__ import annotations

import grpc

from storyreel_core.platform import Platform
from storyreel_core.proto.storyreel.v1 import stages_pb2, stages_pb2_grpc
from storyreel_core.service_runtime import ServiceParts
from storyreel_storyboard.grpc_api import StoryboardServicer
from storyreel_storyboard.plan_job import run_plan

NAME = "storyboard"


def build(platform: Platform) -> ServiceParts:
    servicer = StoryboardServicer(platform.launcher)

    def register(server: grpc.aio.Server) -> None:
        stages_pb2_grpc.add_StoryboardServiceServicer_to_server(servicer, server)

    return ServiceParts(
        name=NAME,
        registrars=[register],
        service_names=[stages_pb2.DESCRIPTOR.services_by_name["StoryboardService"].full_name],
        handlers={"plan": run_plan},
    )
