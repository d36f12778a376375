"""The other services the videos area reads, each called over gRPC *as the caller*.

- script: is the drama the caller's? (`GetDrama` answers NOT_FOUND otherwise)
- storyboard: the shots to render (`BatchGetStoryboards`, `ListStoryboards`)
- storyboard, again: the speech of a shot the final cut finds silent (`GenerateShotAudio`)
- asset: the object key of an uploaded audio asset used as the music bed, and of the uploaded
  video a shot plays (`GetAsset`)

Channels open on first use (`PeerChannels`): the embedded launcher fills in the services'
ports after every service is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from storyreel_core.drama_models import CAMERA_MOVEMENTS, CameraMovement, FigureBox, SpeechSegment
from storyreel_core.errors import NotFound, ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import (
    assets_pb2,
    assets_pb2_grpc,
    storyboards_pb2,
    storyboards_pb2_grpc,
)
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import from_message
from storyreel_core.rpc.peers import DramaGuard, PeerChannels
from storyreel_core.settings import Settings
from storyreel_video.video_models import ShotRef

log = get_logger("storyreel.video.peers")

MAX_SHOTS = 500  # the most storyboards read for "every storyboard of the drama"


def _camera(value: str) -> CameraMovement:
    for known in CAMERA_MOVEMENTS:
        if value == known:
            return known
    return "static"


def shot_from_proto(msg: storyboards_pb2.Storyboard) -> ShotRef:
    return ShotRef(
        storyboard_id=msg.id,
        position=msg.position,
        image_key=msg.image_key,
        audio_key=msg.audio_key,
        audio_duration=max(0.0, msg.audio_duration),
        duration=max(0.0, msg.duration),
        camera_movement=_camera(msg.camera_movement),
        segments=[from_message(s, SpeechSegment) for s in msg.audio_segments],
        narration=msg.narration,
        dialogue=[d.text for d in msg.dialogue if d.text.strip()],
        language=msg.language or "zh",
        prompt=". ".join(t.strip() for t in (msg.prompt, msg.description) if t.strip())[:4000],
        video_asset_id=msg.video_asset_id,
        figures=[
            FigureBox.model_validate(
                {"character_id": f.character_id, "face": list(f.face), "body": list(f.body)}
            )
            for f in msg.figures
            if len(f.face) == 4 and len(f.body) == 4
        ][:32],
    )


class Peers:
    """gRPC adapters of the `DramaCheck`, `ShotSource` and `MusicSource` ports."""

    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._channels = PeerChannels(settings)
        self._dramas = DramaGuard(self._channels)

    async def require(self, owner_id: str, drama_id: str) -> None:
        await self._dramas.require(owner_id, drama_id)

    async def shots(
        self, owner_id: str, drama_id: str, storyboard_ids: Sequence[str] | None
    ) -> list[ShotRef]:
        return await self._with_uploads(
            owner_id, drama_id, await self._shots(owner_id, drama_id, storyboard_ids)
        )

    async def _with_uploads(
        self, owner_id: str, drama_id: str, shots: list[ShotRef]
    ) -> list[ShotRef]:
        """Each shot naming an uploaded video gets its object key; an asset deleted since it
        was chosen leaves the shot on camera motion (logged), not the whole render refused."""
        stub = assets_pb2_grpc.AssetLibraryServiceStub(self._channels.channel("asset"))
        keys: dict[str, str] = {}
        for asset_id in dict.fromkeys(s.video_asset_id for s in shots if s.video_asset_id):
            try:
                asset = await call(
                    stub.GetAsset,
                    assets_pb2.AssetRef(drama_id=drama_id, asset_id=asset_id),
                    user_id=owner_id,
                    timeout=self._channels.deadline,
                )
            except NotFound:
                log.warning("video.upload.gone", drama_id=drama_id, asset_id=asset_id)
                continue
            if asset.media_type == "video" and asset.key:
                keys[asset_id] = asset.key
        return [
            s.model_copy(update={"video_key": keys[s.video_asset_id]})
            if s.video_asset_id in keys
            else s
            for s in shots
        ]

    async def _shots(
        self, owner_id: str, drama_id: str, storyboard_ids: Sequence[str] | None
    ) -> list[ShotRef]:
        stub = storyboards_pb2_grpc.StoryboardLibraryServiceStub(
            self._channels.channel("storyboard")
        )
        if storyboard_ids is not None:
            found = await call(
                stub.BatchGetStoryboards,
                storyboards_pb2.StoryboardIdsRequest(drama_id=drama_id, ids=list(storyboard_ids)),
                user_id=owner_id,
                timeout=self._channels.deadline,
            )
            by_id = {s.id: s for s in found.storyboards}
            for board_id in storyboard_ids:  # the contract says NOT_FOUND; do not rely on it
                if board_id not in by_id:
                    raise NotFound(f"storyboard {board_id} not found", field="storyboard_ids")
            return [shot_from_proto(by_id[i]) for i in storyboard_ids]
        boards: list[storyboards_pb2.Storyboard] = []
        page = 1
        while len(boards) < MAX_SHOTS:
            listed = await call(
                stub.ListStoryboards,
                storyboards_pb2.ListStoryboardsRequest(drama_id=drama_id, page=page, per_page=100),
                user_id=owner_id,
                timeout=self._channels.deadline,
            )
            boards.extend(listed.storyboards)
            if not listed.storyboards or len(boards) >= listed.total:
                break
            page += 1
        boards.sort(key=lambda s: (s.position, s.created_at, s.id))
        return [shot_from_proto(s) for s in boards]

    async def speak(
        self, owner_id: str, drama_id: str, storyboard_id: str, *, task_id: str, parent_id: str
    ) -> str:
        """`GenerateShotAudio` as the caller, as task `task_id` under `parent_id` (the same
        task `POST …/storyboards/{id}/audio` starts, with the default cast voices)."""
        stub = storyboards_pb2_grpc.StoryboardLibraryServiceStub(
            self._channels.channel("storyboard")
        )
        ref = await call(
            stub.GenerateShotAudio,
            storyboards_pb2.GenerateShotAudioRequest(
                drama_id=drama_id, storyboard_id=storyboard_id
            ),
            user_id=owner_id,
            timeout=self._channels.deadline,
            task_id=task_id,
            parent_id=parent_id,
        )
        return str(ref.task_id)

    async def audio_key(self, owner_id: str, drama_id: str, asset_id: str) -> str:
        stub = assets_pb2_grpc.AssetLibraryServiceStub(self._channels.channel("asset"))
        asset = await call(
            stub.GetAsset,
            assets_pb2.AssetRef(drama_id=drama_id, asset_id=asset_id),
            user_id=owner_id,
            timeout=self._channels.deadline,
        )
        if asset.media_type != "audio" or not asset.key:
            raise ValidationFailed(
                f"asset {asset_id} is {asset.media_type or 'not a file'}, not audio",
                field="music.asset_id",
            )
        key: str = asset.key
        return key

    async def video_key(self, owner_id: str, drama_id: str, asset_id: str) -> str:
        """The object key of an uploaded video asset of the caller's drama; another user's
        or an unknown asset is NOT_FOUND, an asset that is not a video 400."""
        stub = assets_pb2_grpc.AssetLibraryServiceStub(self._channels.channel("asset"))
        asset = await call(
            stub.GetAsset,
            assets_pb2.AssetRef(drama_id=drama_id, asset_id=asset_id),
            user_id=owner_id,
            timeout=self._channels.deadline,
        )
        if asset.media_type != "video" or not asset.key:
            raise ValidationFailed(
                f"asset {asset_id} is {asset.media_type or 'not a file'}, not a video",
                field="video_asset_id",
            )
        key: str = asset.key
        return key

    async def close(self) -> None:
        await self._channels.close()
