"""The TtsService servicer."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import common_pb2, stages_pb2, stages_pb2_grpc
from storyreel_core.providers.ports import ProviderError
from storyreel_core.rpc.stage_servicer import start_stage
from storyreel_core.task_launcher import TaskLauncher
from storyreel_tts.speech_backend import SpeechBackend
from storyreel_tts.speech_job import SpeechInput

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
log = get_logger(__name__)


class TtsServicer(stages_pb2_grpc.TtsServiceServicer):
    def __init__(self, launcher: TaskLauncher, backend: SpeechBackend) -> None:
        self.launcher = launcher
        self.backend = backend

    async def Synthesize(
        self, request: common_pb2.StageRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        return await start_stage(
            self.launcher, request, context, service="tts", kind="speech", model=SpeechInput
        )

    async def ListVoices(
        self, request: stages_pb2.ListVoicesRequest, context: Ctx
    ) -> stages_pb2.VoiceList:
        """One provider's voices (unknown → 1001 naming the configured), or every provider's.

        Listing every provider skips a vendor that cannot answer now (logged), so one outage
        does not hide the offline voices.
        """
        names = [request.provider] if request.provider else self.backend.names()
        if request.provider:
            self.backend.model(request.provider)  # raises for an unknown provider
        voices: list[stages_pb2.Voice] = []
        for name in names:
            try:
                listed = await self.backend.voices(name)
            except ProviderError as exc:
                if request.provider:
                    raise
                log.warning("tts.voices.provider_unavailable", provider=name, error=str(exc))
                continue
            voices += [
                stages_pb2.Voice(
                    id=v.id,
                    language=v.language,
                    gender=v.gender,
                    description=v.description,
                    provider=name,
                )
                for v in listed
            ]
        return stages_pb2.VoiceList(voices=voices, providers=self.backend.names())
