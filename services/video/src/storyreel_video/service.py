"""Assemble the video service."""

from __future__ import annotations

import grpc

from storyreel_core.platform import Platform
from storyreel_core.proto.storyreel.v1 import stages_pb2, stages_pb2_grpc
from storyreel_core.service_runtime import ServiceParts
from storyreel_video.final_cut_job import FinalCutJob
from storyreel_video.grpc_api import VideoServicer

NAME = "video"


def build(platform: Platform) -> ServiceParts:
    servicer = VideoServicer(platform.launcher)
    settings = platform.settings

    def register(server: grpc.aio.Server) -> None:
        stages_pb2_grpc.add_VideoServiceServicer_to_server(servicer, server)

    return ServiceParts(
        name=NAME,
        registrars=[register],
        service_names=[stages_pb2.DESCRIPTOR.services_by_name["VideoService"].full_name],
        handlers={
            "final_cut": FinalCutJob(
                platform.objects, ffmpeg=settings.ffmpeg, preset=settings.video_preset
            )
        },
    )
