"""The TtsService servicer."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from storyreel_core.proto.storyreel.v1 import common_pb2, stages_pb2, stages_pb2_grpc
from storyreel_core.rpc.stage_servicer import start_stage
from storyreel_core.task_launcher import TaskLauncher
from storyreel_tts.speech_job import SpeechInput
from storyreel_tts.voice_casting import list_voices

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class TtsServicer(stages_pb2_grpc.TtsServiceServicer):
    def __init__(self, launcher: TaskLauncher) -> None:
        self.launcher = launcher

    async def Synthesize(
        self, request: common_pb2.StageRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        return await start_stage(
            self.launcher, request, context, service="tts", kind="speech", model=SpeechInput
        )

    async def ListVoices(self, request: common_pb2.Empty, context: Ctx) -> stages_pb2.VoiceList:
        return stages_pb2.VoiceList(
            voices=[
                stages_pb2.Voice(
                    id=str(v["id"]),
                    language=str(v["language"]),
                    gender=str(v.get("gender", "")),
                    description=str(v.get("description", "")),
                )
                for v in list_voices()
            ]
        )
