"""What the gateway holds for its lifetime: stores, token service, gRPC stubs. Built in lifespan."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import grpc

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.proto.storyreel.v1 import (
    assets_pb2_grpc,
    script_pb2_grpc,
    stages_pb2_grpc,
    storyboards_pb2_grpc,
    subtitles_pb2_grpc,
    tasks_pb2_grpc,
    videos_pb2_grpc,
)
from storyreel_core.providers.config import load_providers
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.rpc.clients import open_channel
from storyreel_core.settings import Settings
from storyreel_core.stores.document_store import DocumentStore
from storyreel_core.stores.object_store import ObjectStore
from storyreel_gateway.auth.api_quota import ApiQuota
from storyreel_gateway.auth.api_user_store import ApiUserStore
from storyreel_gateway.auth.login_throttle import LoginThrottle
from storyreel_gateway.auth.tokens import TokenService
from storyreel_gateway.auth.user_store import UserStore
from storyreel_gateway.conversations.recorder import ConversationRecorder
from storyreel_gateway.conversations.store import ConversationStore
from storyreel_gateway.media_signer import MediaSigner
from storyreel_gateway.realtime.task_feed import TaskFeed


@dataclass
class Stubs:
    script: script_pb2_grpc.ScriptServiceStub
    workflow: stages_pb2_grpc.WorkflowServiceStub
    tasks: tasks_pb2_grpc.TaskServiceStub
    tts: stages_pb2_grpc.TtsServiceStub
    characters: assets_pb2_grpc.CharacterServiceStub
    assets: assets_pb2_grpc.AssetLibraryServiceStub
    storyboards: storyboards_pb2_grpc.StoryboardLibraryServiceStub
    videos: videos_pb2_grpc.VideoLibraryServiceStub
    subtitles: subtitles_pb2_grpc.DynamicSubtitleServiceStub
    channels: list[grpc.aio.Channel] = field(default_factory=list)
    # Each service's channel by service name, for health checks.
    by_service: dict[str, grpc.aio.Channel] = field(default_factory=dict)

    @classmethod
    def connect(cls, settings: Settings) -> Stubs:
        script = open_channel(settings.script_addr)
        workflow = open_channel(settings.workflow_addr)
        tts = open_channel(settings.tts_addr)
        asset = open_channel(settings.asset_addr)
        storyboard = open_channel(settings.storyboard_addr)
        video = open_channel(settings.video_addr)
        return cls(
            script=script_pb2_grpc.ScriptServiceStub(script),
            workflow=stages_pb2_grpc.WorkflowServiceStub(workflow),
            tasks=tasks_pb2_grpc.TaskServiceStub(workflow),
            tts=stages_pb2_grpc.TtsServiceStub(tts),
            characters=assets_pb2_grpc.CharacterServiceStub(asset),
            assets=assets_pb2_grpc.AssetLibraryServiceStub(asset),
            storyboards=storyboards_pb2_grpc.StoryboardLibraryServiceStub(storyboard),
            videos=videos_pb2_grpc.VideoLibraryServiceStub(video),
            subtitles=subtitles_pb2_grpc.DynamicSubtitleServiceStub(video),
            channels=[script, workflow, tts, asset, storyboard, video],
            by_service={
                "script": script,
                "asset": asset,
                "storyboard": storyboard,
                "tts": tts,
                "video": video,
                "workflow": workflow,
            },
        )

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


@dataclass
class GatewayState:
    settings: Settings
    docs: DocumentStore
    objects: ObjectStore
    users: UserStore
    tokens: TokenService
    throttle: LoginThrottle
    signer: MediaSigner
    stubs: Stubs
    # API users (seed 003 X-API-Key) and their quotas.
    api_users: ApiUserStore
    api_quota: ApiQuota
    # Task events for WebSocket/SSE clients; None when the gateway runs without a bus.
    feed: TaskFeed | None = None
    # The providers file, loaded by the gateway too: it checks and describes, never calls.
    providers: ProviderRegistry = field(
        default_factory=lambda: ProviderRegistry(load_providers(None))
    )
    conversations: ConversationStore | None = None
    recorder: ConversationRecorder | None = None
    started_at: float = field(default_factory=time.time)

    @property
    def bus(self) -> JetStreamBus | None:
        """The NATS connection the gateway holds (the feed's), or None without a bus."""
        return self.feed.bus if self.feed is not None else None
