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
from google.protobuf.message import Message

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.proto.storyreel.v1 import (
    common_pb2,
    stages_pb2_grpc,
    videos_pb2,
    videos_pb2_grpc,
)
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import stage_request, to_message
from storyreel_core.rpc.peers import PeerChannels
from storyreel_core.task_store import TaskStore
from storyreel_core.task_watch import OnUpdate, wait_for_task

StageMethod = Callable[..., Awaitable[common_pb2.TaskRef]]
POLL_S = 0.5

# Each stage: the service that owns it, its job kind (the StageRequest input it takes, unless
# REQUESTS names the stage's own request), and its start method on a channel to that service.
STAGES: dict[str, tuple[str, str, Callable[[grpc.aio.Channel], StageMethod]]] = {
    "frames": ("asset", "frames", lambda ch: stages_pb2_grpc.AssetServiceStub(ch).RenderFrames),
    "speech": ("tts", "speech", lambda ch: stages_pb2_grpc.TtsServiceStub(ch).Synthesize),
    "final_cut": (
        "video",
        "final_cut",
        lambda ch: videos_pb2_grpc.VideoLibraryServiceStub(ch).RenderFinalCut,
    ),
}
# A stage whose RPC takes a request of its own rather than a StageRequest: the payload holds
# that message's fields, and the task's and its parent's ids travel in the call's metadata
# (`rpc.server.stage_task`).
REQUESTS: dict[str, Callable[[], Message]] = {
    "final_cut": videos_pb2.RenderFinalCutRequest,
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
        if stage in REQUESTS:
            own = to_message(payload, REQUESTS[stage]())
            await call(
                self.method(stage),
                own,
                user_id=owner_id,
                timeout=self.channels.deadline,
                task_id=task_id,
                parent_id=parent_id,
            )
            return
        request = stage_request(
            STAGES[stage][1], payload, task_id=task_id, parent_task_id=parent_id, drama_id=drama_id
        )
        await call(self.method(stage), request, user_id=owner_id, timeout=self.channels.deadline)

    async def wait(self, task_id: str, on_update: OnUpdate) -> dict[str, Any]:
        return await wait_for_task(self.bus, self.tasks, task_id, on_update, poll_s=POLL_S)
