"""Start a stage task on its owning service over gRPC and wait for it to finish.

Waiting listens to `events.tasks.<id>` for wake-ups but trusts only the task record, re-read
after every wake-up (and at least every half second), so a missed event costs latency, never
correctness.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.proto.storyreel.v1 import common_pb2, script_pb2_grpc, stages_pb2_grpc
from storyreel_core.rpc.clients import call, open_channel
from storyreel_core.settings import Settings
from storyreel_core.task_store import TaskStore
from storyreel_core.task_watch import wait_for_task

StageMethod = Callable[..., Awaitable[common_pb2.TaskRef]]


class StageClient:
    def __init__(self, settings: Settings, tasks: TaskStore, bus: JetStreamBus) -> None:
        self.tasks = tasks
        self.bus = bus
        self.deadline = settings.grpc_deadline_s
        self._channels: list[grpc.aio.Channel] = []
        script = script_pb2_grpc.ScriptServiceStub(self._open(settings.script_addr))
        storyboard = stages_pb2_grpc.StoryboardServiceStub(self._open(settings.storyboard_addr))
        asset = stages_pb2_grpc.AssetServiceStub(self._open(settings.asset_addr))
        tts = stages_pb2_grpc.TtsServiceStub(self._open(settings.tts_addr))
        video = stages_pb2_grpc.VideoServiceStub(self._open(settings.video_addr))
        self.methods: dict[str, StageMethod] = {
            "script": script.WriteScreenplay,
            "storyboard": storyboard.PlanShots,
            "frames": asset.RenderFrames,
            "speech": tts.Synthesize,
            "final_cut": video.ComposeFinalCut,
        }

    def _open(self, address: str) -> grpc.aio.Channel:
        channel = open_channel(address)
        self._channels.append(channel)
        return channel

    async def start(
        self, stage: str, payload: dict[str, Any], *, owner_id: str, task_id: str, parent_id: str
    ) -> None:
        request = common_pb2.StageRequest(
            input_json=json.dumps(payload, ensure_ascii=False),
            task_id=task_id,
            parent_task_id=parent_id,
        )
        await call(self.methods[stage], request, user_id=owner_id, timeout=self.deadline)

    async def wait(
        self, task_id: str, on_update: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> dict[str, Any]:
        return await wait_for_task(self.bus, self.tasks, task_id, on_update, poll_s=0.5)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
