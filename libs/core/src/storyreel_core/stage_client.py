"""Start a stage task on its owning service over gRPC and wait for it to finish.

Used by the workflow (seed 002's stage tasks) and by the storyboard service (frames and speech
for the studio's storyboards). Waiting listens to `events.tasks.<id>` for wake-ups but trusts
only the task record, re-read after every wake-up and at least every half second, so a missed
event costs latency, never correctness.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.proto.storyreel.v1 import common_pb2, stages_pb2_grpc
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import stage_request
from storyreel_core.rpc.peers import PeerChannels
from storyreel_core.task_store import TaskStore
from storyreel_core.task_watch import OnUpdate, wait_for_task

StageMethod = Callable[..., Awaitable[common_pb2.TaskRef]]
POLL_S = 0.5

# Each stage: the service that owns it, its job kind (the StageRequest input it takes), and
# its start method on a channel to that service.
STAGES: dict[str, tuple[str, str, Callable[[grpc.aio.Channel], StageMethod]]] = {
    "frames": ("asset", "frames", lambda ch: stages_pb2_grpc.AssetServiceStub(ch).RenderFrames),
    "speech": ("tts", "speech", lambda ch: stages_pb2_grpc.TtsServiceStub(ch).Synthesize),
    "final_cut": (
        "video",
        "final_cut",
        lambda ch: stages_pb2_grpc.VideoServiceStub(ch).ComposeFinalCut,
    ),
}


class StageClient:
    def __init__(self, channels: PeerChannels, tasks: TaskStore, bus: JetStreamBus) -> None:
        self.channels = channels
        self.tasks = tasks
        self.bus = bus

    def method(self, stage: str) -> StageMethod:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        service, _, pick = STAGES[stage]
        return pick(self.channels.channel(service))

    async def start(
        self,
        stage: str,
        payload: dict[str, Any],
        *,
        owner_id: str,
        task_id: str,
        parent_id: str,
        drama_id: str = "",
    ) -> None:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        request = stage_request(
            STAGES[stage][1], payload, task_id=task_id, parent_task_id=parent_id, drama_id=drama_id
        )
        await call(self.method(stage), request, user_id=owner_id, timeout=self.channels.deadline)

    async def wait(self, task_id: str, on_update: OnUpdate) -> dict[str, Any]:
        return await wait_for_task(self.bus, self.tasks, task_id, on_update, poll_s=POLL_S)
