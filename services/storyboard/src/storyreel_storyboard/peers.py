"""The services the storyboard service works with, over gRPC and always as the caller.

- script: `GetDrama` (is this drama the caller's? NOT_FOUND otherwise) and `GetScript`;
- asset: the drama's characters (`CharacterService`), frames (`AssetService.RenderFrames`,
  the procedural renderer the asset service owns) and uploaded videos a shot may play
  (`AssetLibraryService.GetAsset`);
- tts: the voice catalogue and speech (`TtsService.Synthesize`).

Stage work is started with a child task id derived from the job's own (so a redelivered job
re-attaches to its child instead of starting a second one) and awaited with the workflow's
`StageClient`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.errors import NotFound
from storyreel_core.proto.storyreel.v1 import (
    assets_pb2,
    assets_pb2_grpc,
    script_pb2,
    script_pb2_grpc,
    stages_pb2,
    stages_pb2_grpc,
)
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.peers import DramaGuard, PeerChannels
from storyreel_core.settings import Settings
from storyreel_core.stage_client import StageClient
from storyreel_core.task_store import TaskStore
from storyreel_core.task_watch import OnUpdate

PAGE = 100


class Peers:
    def __init__(
        self, settings: Callable[[], Settings], tasks: TaskStore, bus: JetStreamBus
    ) -> None:
        self.channels = PeerChannels(settings)
        self.dramas = DramaGuard(self.channels)
        self.stages = StageClient(self.channels, tasks, bus)

    @property
    def deadline(self) -> float:
        return self.channels.deadline

    # ---- script ---------------------------------------------------------------------------

    async def require_drama(self, owner_id: str, drama_id: str) -> None:
        """NotFound (1002) unless `drama_id` is a drama of `owner_id`."""
        await self.dramas.require(owner_id, drama_id)

    async def script(self, owner_id: str, drama_id: str, script_id: str) -> script_pb2.Script:
        return await call(
            script_pb2_grpc.ScriptServiceStub(self.channels.channel("script")).GetScript,
            script_pb2.GetScriptRequest(drama_id=drama_id, id=script_id),
            user_id=owner_id,
            timeout=self.deadline,
        )

    # ---- asset ----------------------------------------------------------------------------

    def _characters(self) -> assets_pb2_grpc.CharacterServiceStub:
        return assets_pb2_grpc.CharacterServiceStub(self.channels.channel("asset"))

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

    async def require_video_asset(self, owner_id: str, drama_id: str, asset_id: str) -> None:
        """NotFound (1002, field `video_asset_id`) unless `asset_id` is a video asset of the
        owner's drama with a stored file."""
        try:
            asset = await call(
                assets_pb2_grpc.AssetLibraryServiceStub(self.channels.channel("asset")).GetAsset,
                assets_pb2.AssetRef(drama_id=drama_id, asset_id=asset_id),
                user_id=owner_id,
                timeout=self.deadline,
            )
        except NotFound as exc:
            # The asset service names its own field `asset_id`: the client named this one.
            raise NotFound(f"asset {asset_id} not found", field="video_asset_id") from exc
        if asset.media_type != "video" or not asset.key:
            raise NotFound(f"asset {asset_id} is not a video of this drama", field="video_asset_id")

    async def image_asset(self, owner_id: str, drama_id: str, asset_id: str) -> assets_pb2.Asset:
        """The image asset `asset_id` of the owner's drama; NotFound (1002, field
        `image_asset_id`) for another drama's or user's asset, a non-image or one without a
        stored file."""
        try:
            asset: assets_pb2.Asset = await call(
                assets_pb2_grpc.AssetLibraryServiceStub(self.channels.channel("asset")).GetAsset,
                assets_pb2.AssetRef(drama_id=drama_id, asset_id=asset_id),
                user_id=owner_id,
                timeout=self.deadline,
            )
        except NotFound as exc:
            # The asset service names its own field `asset_id`: the client named this one.
            raise NotFound(f"asset {asset_id} not found", field="image_asset_id") from exc
        if asset.media_type != "image" or not asset.key:
            raise NotFound(
                f"asset {asset_id} is not an image of this drama", field="image_asset_id"
            )
        return asset

    # ---- tts ------------------------------------------------------------------------------

    async def voice_ids(self, owner_id: str, provider: str = "") -> set[str]:
        """The voice ids `provider` offers (default `offline`); an unknown provider → 1001."""
        tts = stages_pb2_grpc.TtsServiceStub(self.channels.channel("tts"))
        msg = await call(
            tts.ListVoices,
            stages_pb2.ListVoicesRequest(provider=provider or "offline"),
            user_id=owner_id,
            timeout=self.deadline,
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
        await self.stages.start(
            stage, payload, owner_id=owner_id, task_id=task_id, parent_id=parent_id,
            drama_id=drama_id,
        )  # fmt: skip
        return await self.stages.wait(task_id, on_update)

    async def close(self) -> None:
        await self.channels.close()
