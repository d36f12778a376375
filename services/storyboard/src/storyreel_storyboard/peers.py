"""The services the storyboard service works with, over gRPC and always as the caller.

- script: `GetDrama` (is this drama the caller's? NOT_FOUND otherwise) and `GetScript`;
- asset: the drama's characters (`CharacterService`) and frames (`AssetService.RenderFrames`,
  the procedural renderer the asset service owns);
- tts: the voice catalogue and speech (`TtsService.Synthesize`).

Channels open on first use and read the address then: the embedded launcher fills in the ports
after the services are built. Stage work is started with a child task id derived from the
job's own (so a redelivered job re-attaches to its child instead of starting a second one) and
awaited the way the workflow does: `events.tasks.<id>` wakes the wait, the task record decides.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.proto.storyreel.v1 import (
    assets_pb2,
    assets_pb2_grpc,
    common_pb2,
    script_pb2,
    script_pb2_grpc,
    stages_pb2_grpc,
)
from storyreel_core.rpc.clients import call, open_channel
from storyreel_core.settings import Settings
from storyreel_core.task_store import TaskStore
from storyreel_core.task_watch import wait_for_task

OnUpdate = Callable[[dict[str, Any]], Awaitable[None]]
PAGE = 100
POLL_S = 0.5


class Peers:
    def __init__(
        self, settings: Callable[[], Settings], tasks: TaskStore, bus: JetStreamBus
    ) -> None:
        self._settings = settings
        self.tasks = tasks
        self.bus = bus
        self._channels: dict[str, grpc.aio.Channel] = {}

    def _channel(self, service: str) -> grpc.aio.Channel:
        if service not in self._channels:
            self._channels[service] = open_channel(self._settings().service_addr(service))
        return self._channels[service]

    @property
    def deadline(self) -> float:
        return self._settings().grpc_deadline_s

    # ---- script ---------------------------------------------------------------------------

    def _script(self) -> script_pb2_grpc.ScriptServiceStub:
        return script_pb2_grpc.ScriptServiceStub(self._channel("script"))

    async def require_drama(self, owner_id: str, drama_id: str) -> None:
        """NotFound (1002) unless `drama_id` is a drama of `owner_id`."""
        await call(
            self._script().GetDrama,
            script_pb2.GetDramaRequest(id=drama_id),
            user_id=owner_id,
            timeout=self.deadline,
        )

    async def script(self, owner_id: str, drama_id: str, script_id: str) -> script_pb2.Script:
        return await call(
            self._script().GetScript,
            script_pb2.GetScriptRequest(drama_id=drama_id, id=script_id),
            user_id=owner_id,
            timeout=self.deadline,
        )

    # ---- asset ----------------------------------------------------------------------------

    def _characters(self) -> assets_pb2_grpc.CharacterServiceStub:
        return assets_pb2_grpc.CharacterServiceStub(self._channel("asset"))

    async def drama_characters(self, owner_id: str, drama_id: str) -> list[assets_pb2.Character]:
        """Every character of the drama as the asset service designed them."""
        found: list[assets_pb2.Character] = []
        page = 1
        while True:
            msg = await call(
                self._characters().ListCharacters,
                assets_pb2.ListCharactersRequest(drama_id=drama_id, page=page, per_page=PAGE),
                user_id=owner_id,
                timeout=self.deadline,
            )
            found.extend(msg.characters)
            if len(msg.characters) < PAGE or len(found) >= msg.total:
                return found
            page += 1

    async def characters(
        self, owner_id: str, drama_id: str, ids: list[str]
    ) -> list[assets_pb2.Character]:
        """The drama's characters among `ids` (unknown ids are left out)."""
        found: list[assets_pb2.Character] = []
        for start in range(0, len(ids), PAGE):
            msg = await call(
                self._characters().BatchGetCharacters,
                assets_pb2.CharacterIdsRequest(drama_id=drama_id, ids=ids[start : start + PAGE]),
                user_id=owner_id,
                timeout=self.deadline,
            )
            found.extend(msg.characters)
        return found

    # ---- tts ------------------------------------------------------------------------------

    def _tts(self) -> stages_pb2_grpc.TtsServiceStub:
        return stages_pb2_grpc.TtsServiceStub(self._channel("tts"))

    async def voice_ids(self, owner_id: str) -> set[str]:
        msg = await call(
            self._tts().ListVoices, common_pb2.Empty(), user_id=owner_id, timeout=self.deadline
        )
        return {v.id for v in msg.voices}

    # ---- stages ---------------------------------------------------------------------------

    async def run_stage(
        self,
        stage: str,
        payload: dict[str, Any],
        *,
        owner_id: str,
        drama_id: str,
        task_id: str,
        parent_id: str,
        on_update: OnUpdate,
    ) -> dict[str, Any]:
        """Start `stage` ("frames" or "speech") as task `task_id` and wait for its end."""
        method = {
            "frames": stages_pb2_grpc.AssetServiceStub(self._channel("asset")).RenderFrames,
            "speech": self._tts().Synthesize,
        }[stage]
        request = common_pb2.StageRequest(
            input_json=json.dumps(payload, ensure_ascii=False),
            task_id=task_id,
            parent_task_id=parent_id,
            drama_id=drama_id,
        )
        await call(method, request, user_id=owner_id, timeout=self.deadline)
        return await self.wait(task_id, on_update)

    async def wait(self, task_id: str, on_update: OnUpdate) -> dict[str, Any]:
        return await wait_for_task(self.bus, self.tasks, task_id, on_update, poll_s=POLL_S)

    async def close(self) -> None:
        channels, self._channels = self._channels, {}
        for channel in channels.values():
            await channel.close()
