"""The video service as deployed (`service.build`): its VideoLibraryService over real gRPC, its
jobs pulled from a real nats-server, its `drama.deleted` consumer.

The services it reads — script (GetDrama), storyboard (ListStoryboards, BatchGetStoryboards)
and asset (GetAsset) — are answered by `Peers` below, a real gRPC server on a free port with the
same error mapping as every service, over storyboards whose media sit in the real store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from storyreel_core.bus.domain_events import announce_drama_deleted
from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.errors import AppError, Code, NotFound
from storyreel_core.platform import Platform
from storyreel_core.proto.storyreel.v1 import (
    assets_pb2,
    assets_pb2_grpc,
    drama_pb2,
    script_pb2,
    script_pb2_grpc,
    storyboards_pb2,
    storyboards_pb2_grpc,
    videos_pb2,
    videos_pb2_grpc,
)
from storyreel_core.rpc.clients import call, open_channel
from storyreel_core.rpc.server import GrpcServer, caller_id
from storyreel_core.service_runtime import RunningService
from storyreel_core.settings import Settings
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_core.task_launcher import TaskLauncher
from storyreel_core.task_store import TERMINAL, TaskStore
from storyreel_core.testing import eventually, start_nats
from storyreel_video.service import build
from storyreel_video.video_store import VIDEOS

OWNER, OTHER, DRAMA = "user_a", "user_b", "drama_1"
W, H = 144, 256
Ctx = grpc.aio.ServicerContext[Any, Any]
Synth = tuple[Callable[..., Path], Callable[..., Path]]


class Peers(
    script_pb2_grpc.ScriptServiceServicer,
    storyboards_pb2_grpc.StoryboardLibraryServiceServicer,
    assets_pb2_grpc.AssetLibraryServiceServicer,
):
    """The drama, storyboards and assets of OWNER, as their owning services would answer."""

    def __init__(self) -> None:
        self.boards: dict[str, storyboards_pb2.Storyboard] = {}
        self.assets: dict[str, assets_pb2.Asset] = {}

    def _drama(self, context: Ctx, drama_id: str) -> None:
        if (caller_id(context), drama_id) != (OWNER, DRAMA):
            raise NotFound(f"drama {drama_id} not found", field="drama_id")

    async def GetDrama(self, request: script_pb2.GetDramaRequest, context: Ctx) -> Any:
        self._drama(context, request.id)
        return script_pb2.Drama(id=DRAMA, name="Tea")

    async def ListStoryboards(self, request: Any, context: Ctx) -> Any:
        self._drama(context, request.drama_id)
        boards = sorted(self.boards.values(), key=lambda b: b.position, reverse=True)
        start = (request.page - 1) * request.per_page
        page = boards[start : start + request.per_page]
        return storyboards_pb2.StoryboardList(storyboards=page, total=len(boards))

    async def BatchGetStoryboards(self, request: Any, context: Ctx) -> Any:
        self._drama(context, request.drama_id)
        for board_id in request.ids:
            if board_id not in self.boards:
                raise NotFound(f"storyboard {board_id} not found", field="ids")
        return storyboards_pb2.StoryboardList(storyboards=[self.boards[i] for i in request.ids])

    async def GetAsset(self, request: assets_pb2.AssetRef, context: Ctx) -> Any:
        self._drama(context, request.drama_id)
        if request.asset_id not in self.assets:
            raise NotFound(f"asset {request.asset_id} not found", field="asset_id")
        return self.assets[request.asset_id]


class Running:
    def __init__(self, platform: Platform, peers: Peers, stub: Any, root: Path) -> None:
        self.platform = platform
        self.peers = peers
        self.stub = stub
        self.root = root

    async def call(self, method: str, request: Any, user: str = OWNER) -> Any:
        return await call(getattr(self.stub, method), request, user_id=user)

    async def finished(self, task_id: str) -> dict[str, Any]:
        async def done() -> bool:
            return (await self.platform.tasks.get(task_id))["status"] in TERMINAL

        await eventually(done, timeout=60)
        return await self.platform.tasks.get(task_id)


@pytest.fixture
async def running(tmp_path: Path, synth: Synth) -> AsyncIterator[Running]:
    nats = await start_nats(tmp_path)
    bus = await JetStreamBus(nats.url).connect()
    await bus.ensure_streams()
    docs = await SqliteDocumentStore(tmp_path / "db.sqlite").connect()
    objects = FolderObjectStore(tmp_path / "media")
    tasks = TaskStore(docs)
    await tasks.ensure_indexes()

    peers = Peers()

    def register(server: grpc.aio.Server) -> None:
        script_pb2_grpc.add_ScriptServiceServicer_to_server(peers, server)
        storyboards_pb2_grpc.add_StoryboardLibraryServiceServicer_to_server(peers, server)
        assets_pb2_grpc.add_AssetLibraryServiceServicer_to_server(peers, server)

    peer_server = GrpcServer("peers", [register], [])
    await peer_server.start()
    address = peer_server.address
    settings = Settings(
        data_dir=tmp_path, video_preset="ultrafast", job_ack_wait_s=10.0,
        script_addr=address, storyboard_addr=address, asset_addr=address,
    )  # fmt: skip
    platform = Platform(settings, docs, objects, bus, tasks, TaskLauncher(tasks, bus))
    service = RunningService(platform, build(platform), host="127.0.0.1", port=0)
    await service.start()
    channel = open_channel(service.address)

    make_still, make_speech = synth
    for i in range(3):
        still = make_still(tmp_path / f"f{i}.png", W, H, i)
        await objects.put_file(f"dramas/{DRAMA}/storyboards/sb_{i}/frame.png", still, "image/png")
        segments = [drama_pb2.SpeechSegment(speaker="narrator", text=f"Line {i}.", end=0.8)]
        peers.boards[f"sb_{i}"] = storyboards_pb2.Storyboard(
            id=f"sb_{i}", drama_id=DRAMA, position=i + 1, camera_movement="pull_out",
            image_key=f"dramas/{DRAMA}/storyboards/sb_{i}/frame.png", duration=1.0,
            audio_segments=segments, language="en",
        )  # fmt: skip
    speech = make_speech(tmp_path / "speech.wav", 0.8)
    await objects.put_file(f"dramas/{DRAMA}/storyboards/sb_0/audio.wav", speech, "audio/wav")
    peers.boards["sb_0"].audio_key = f"dramas/{DRAMA}/storyboards/sb_0/audio.wav"
    peers.boards["sb_0"].audio_duration = 0.8
    peers.boards["sb_nofr"] = storyboards_pb2.Storyboard(id="sb_nofr", drama_id=DRAMA)
    await objects.put_file(f"dramas/{DRAMA}/assets/a1/song.wav", speech, "audio/wav")
    peers.assets["asset_song"] = assets_pb2.Asset(
        id="asset_song", media_type="audio", key=f"dramas/{DRAMA}/assets/a1/song.wav"
    )
    peers.assets["asset_pic"] = assets_pb2.Asset(id="asset_pic", media_type="image", key="x.png")

    yield Running(platform, peers, videos_pb2_grpc.VideoLibraryServiceStub(channel), tmp_path)

    await channel.close()
    await service.stop(grace=2.0)
    await peer_server.stop(0)
    await bus.close()
    await docs.close()
    nats.stop()


def boards(**kw: Any) -> videos_pb2.DramaStoryboards:
    return videos_pb2.DramaStoryboards(drama_id=DRAMA, **kw)


def clip_settings(**kw: Any) -> videos_pb2.ClipSettings:
    return videos_pb2.ClipSettings(**{"resolution": f"{W}x{H}", "frame_rate": 12, **kw})


async def expect_error(running: Running, method: str, request: Any, code: Code, field: str) -> None:
    with pytest.raises(AppError) as refused:
        await running.call(method, request)
    assert (refused.value.code, refused.value.field) == (code, field), refused.value.message


async def test_clips_are_generated_listed_and_joined_through_grpc_and_jetstream(
    running: Running,
) -> None:
    ref = await running.call(
        "GenerateVideos",
        videos_pb2.GenerateVideosRequest(
            drama_id=DRAMA, storyboard_ids=["sb_1", "sb_0", "sb_1"], settings=clip_settings()
        ),
    )
    queued = await running.platform.tasks.get(ref.task_id)
    # Two clips (sb_1 asked twice is made once), none made yet; the worker runs in this
    # process and may already have taken the job, so one of them may be processing.
    progress = queued["progress"]
    assert (progress["total"], progress["completed"], progress["percentage"]) == (2, 0, 0.0)
    assert (progress["processing"], progress["pending"]) in ((0, 2), (1, 1))
    assert [s["storyboard_id"] for s in queued["payload"]["shots"]] == ["sb_1", "sb_0"]
    task = await running.finished(ref.task_id)
    assert task["status"] == "completed", task["error"]
    assert task["result"]["success_count"] == 2
    assert task["progress"]["completed"] == 2 and task["current_item"] is None

    listed = await running.call("ListVideos", videos_pb2.ListVideosRequest(drama_id=DRAMA))
    assert listed.total == 2 and {v.storyboard_id for v in listed.videos} == {"sb_0", "sb_1"}
    by_board = {v.storyboard_id: v for v in listed.videos}
    assert by_board["sb_0"].duration == pytest.approx(1.3, abs=1 / 12)  # speech + tail
    assert by_board["sb_1"].duration == pytest.approx(1.0, abs=1 / 12)  # the planned duration
    assert by_board["sb_1"].camera_movement == "pull_out" and by_board["sb_1"].fps == 12
    got = await running.call(
        "GetVideo", videos_pb2.VideoRef(drama_id=DRAMA, video_id=by_board["sb_0"].id)
    )
    assert got == by_board["sb_0"]

    ref = await running.call(
        "ConcatenateVideos",
        videos_pb2.ConcatenateVideosRequest(
            drama_id=DRAMA, video_ids=[by_board["sb_0"].id, by_board["sb_1"].id]
        ),
    )
    task = await running.finished(ref.task_id)
    assert task["status"] == "completed", task["error"]
    joined = task["result"]["video"]
    assert joined["duration"] == pytest.approx(2.3, abs=1 / 12)
    assert (joined["width"], joined["height"], joined["fps"]) == (W, H, 12)
    finals = await running.call(
        "ListVideos", videos_pb2.ListVideosRequest(drama_id=DRAMA, kind="concat")
    )
    assert [v.id for v in finals.videos] == [joined["id"]]


async def test_the_final_cut_renders_every_storyboard_in_order_with_an_uploaded_song(
    running: Running,
) -> None:
    del running.peers.boards["sb_nofr"]
    ref = await running.call(
        "RenderFinalCut",
        videos_pb2.RenderFinalCutRequest(
            storyboards=boards(), resolution=f"{W}x{H}", frame_rate=12, transition="none",
            music=videos_pb2.MusicOptions(enabled=True, asset_id="asset_song", volume=0.4),
            subtitles=videos_pb2.SubtitleOptions(enabled=True, position="middle", color="#ff0"),
            title=" 灯下 ",
        ),
    )  # fmt: skip
    payload = (await running.platform.tasks.get(ref.task_id))["payload"]
    assert payload["title"] == "灯下"  # drawn on the thumbnail
    assert [s["storyboard_id"] for s in payload["storyboards"]] == ["sb_0", "sb_1", "sb_2"]
    assert payload["music"]["key"] == f"dramas/{DRAMA}/assets/a1/song.wav"
    assert payload["subtitles"]["color"] == [255, 255, 0]
    task = await running.finished(ref.task_id)
    assert task["status"] == "completed", task["error"]
    assert (task["kind"], task["drama_id"]) == ("final_cut", DRAMA)
    video = task["result"]["video"]
    assert video["duration"] == pytest.approx(1.3 + 1.0 + 1.0, abs=1 / 12)
    assert {"key", "thumbnail_key", "subtitle_key", "ass_key"} <= set(video)


async def test_bad_requests_are_refused_before_any_task_exists(running: Running) -> None:
    gen = videos_pb2.GenerateVideosRequest
    await expect_error(running, "GenerateVideos", gen(drama_id=DRAMA), Code.VALIDATION,
                       "storyboard_ids")  # fmt: skip
    for settings, field in [
        (clip_settings(resolution="huge"), "settings.resolution"),
        (clip_settings(frame_rate=90), "settings.frame_rate"),
        (clip_settings(duration=500), "settings.duration"),
        (clip_settings(camera_movement="spin"), "settings.camera_movement"),
        (clip_settings(transition="star"), "settings.transition"),
    ]:
        request = gen(drama_id=DRAMA, storyboard_ids=["sb_1"], settings=settings)
        await expect_error(running, "GenerateVideos", request, Code.VALIDATION, field)
    await expect_error(
        running, "GenerateVideos", gen(drama_id=DRAMA, storyboard_ids=["sb_nofr"]),
        Code.VALIDATION, "storyboard_ids",
    )  # fmt: skip
    await expect_error(
        running, "GenerateVideos", gen(drama_id=DRAMA, storyboard_ids=["sb_9"]),
        Code.NOT_FOUND, "ids",
    )  # fmt: skip
    render, b, music = videos_pb2.RenderFinalCutRequest, boards(), videos_pb2.MusicOptions
    cut = videos_pb2.CutShots(shots=[videos_pb2.CutShot(shot_id="s1", frame_key="k", duration=1)])
    long = videos_pb2.CutShots(shots=[videos_pb2.CutShot(shot_id="s", frame_key="k", duration=500)])
    for request, code, field in [
        (render(storyboards=b, music=music(enabled=True, asset_id="asset_pic")),
         Code.VALIDATION, "music.asset_id"),
        (render(storyboards=b, music=music(enabled=True, asset_id="nope")),
         Code.NOT_FOUND, "asset_id"),
        (render(storyboards=b, music=music(enabled=True, volume=2)),
         Code.VALIDATION, "music.volume"),
        (render(storyboards=b, subtitles=videos_pb2.SubtitleOptions(position="left")),
         Code.VALIDATION, "subtitles.position"),
        (render(storyboards=b, subtitles=videos_pb2.SubtitleOptions(color="teal-ish")),
         Code.VALIDATION, "subtitles.color"),
        (render(storyboards=boards(storyboard_ids=["sb_nofr"])), Code.VALIDATION,
         "storyboard_ids"),
        # A final cut of explicit shots (no drama) is checked as strictly.
        (render(), Code.VALIDATION, "storyboards"),
        (render(cut_shots=videos_pb2.CutShots()), Code.VALIDATION, "cut_shots.shots"),
        (render(cut_shots=long), Code.VALIDATION, "cut_shots.shots.0.duration"),
        (render(cut_shots=cut, music=music(enabled=True, asset_id="asset_song")),
         Code.VALIDATION, "music.asset_id"),
        (render(cut_shots=cut, transition_duration=9), Code.VALIDATION, "transition_duration"),
    ]:  # fmt: skip
        await expect_error(running, "RenderFinalCut", request, code, field)
    concat = videos_pb2.ConcatenateVideosRequest
    await expect_error(running, "ConcatenateVideos", concat(drama_id=DRAMA, video_ids=["v_1"]),
                       Code.NOT_FOUND, "video_ids")  # fmt: skip
    await expect_error(
        running, "ConcatenateVideos", concat(drama_id=DRAMA, video_ids=["v"], format="gif"),
        Code.VALIDATION, "format",
    )  # fmt: skip
    await expect_error(running, "ListVideos", videos_pb2.ListVideosRequest(drama_id=DRAMA,
                       kind="gif"), Code.VALIDATION, "kind")  # fmt: skip
    assert await running.platform.docs.count("tasks") == 0


async def test_a_final_cut_of_explicit_shots_is_the_tasks_result_only(running: Running) -> None:
    """The drama-less path (seed 002's clips, seed 004's image → video): the same job kind,
    its files under renders/<task>/ and its segments' keys in the result; no video saved."""
    shots = [
        videos_pb2.CutShot(
            shot_id=f"s{i}", frame_key=f"dramas/{DRAMA}/storyboards/sb_{i}/frame.png",
            duration=1.0, camera_movement="push_in",
            segments=[drama_pb2.SpeechSegment(speaker="n", text=f"Line {i}.", end=0.8)],
        )
        for i in range(2)
    ]  # fmt: skip
    request = videos_pb2.RenderFinalCutRequest(
        cut_shots=videos_pb2.CutShots(shots=shots), resolution=f"{W}x{H}", frame_rate=12,
        music=videos_pb2.MusicOptions(enabled=False), transition_duration=0.25, title="T",
    )  # fmt: skip
    # Started as a stage of other work: its id and parent's travel in metadata.
    stage_id, parent = "task_" + "a" * 28, "task_parent"
    ref = await call(
        running.stub.RenderFinalCut, request, user_id=OWNER, task_id=stage_id, parent_id=parent
    )
    assert ref.task_id == stage_id
    task = await running.finished(ref.task_id)
    assert task["status"] == "completed", task["error"]
    assert (task["kind"], task["drama_id"], task["parent_id"]) == ("final_cut", None, parent)
    result = task["result"]
    assert result["video_key"] == f"renders/{stage_id}/final.mp4"
    assert result["duration"] == pytest.approx(2.0 - 0.25, abs=1 / 12)
    assert (result["width"], result["height"], result["fps"]) == (W, H, 12)
    segments = result["segments"]
    assert (segments["total"], segments["encoded"], len(segments["keys"])) == (2, 2, 2)
    assert sum(segments["frame_counts"]) == round(result["duration"] * 12)
    for field in ("video_key", "subtitle_key", "ass_key", "thumbnail_key"):
        assert (running.root / "media" / result[field]).stat().st_size > 0
    assert "video" not in result and await running.platform.docs.count(VIDEOS) == 0


async def test_another_users_drama_is_not_found_everywhere(running: Running) -> None:
    requests: list[tuple[str, Any]] = [
        ("GenerateVideos", videos_pb2.GenerateVideosRequest(drama_id=DRAMA, storyboard_ids=["a"])),
        ("ListVideos", videos_pb2.ListVideosRequest(drama_id=DRAMA)),
        ("GetVideo", videos_pb2.VideoRef(drama_id=DRAMA, video_id="video_x")),
        ("BatchGetVideos", videos_pb2.VideoIdsRequest(drama_id=DRAMA, ids=["video_x"])),
        ("ConcatenateVideos", videos_pb2.ConcatenateVideosRequest(drama_id=DRAMA, video_ids=["v"])),
        ("RenderFinalCut", videos_pb2.RenderFinalCutRequest(storyboards=boards())),
        ("RenderFinalCut", videos_pb2.RenderFinalCutRequest(storyboards=boards(), frame_rate=99)),
    ]
    for method, request in requests:
        with pytest.raises(AppError) as refused:
            await running.call(method, request, user=OTHER)
        assert refused.value.code == Code.NOT_FOUND, method


async def test_a_deleted_drama_loses_its_videos_and_their_media(running: Running) -> None:
    ref = await running.call(
        "GenerateVideos",
        videos_pb2.GenerateVideosRequest(
            drama_id=DRAMA, storyboard_ids=["sb_2"], settings=clip_settings(duration=0.5)
        ),
    )
    assert (await running.finished(ref.task_id))["status"] == "completed"
    videos_dir = running.root / "media" / "dramas" / DRAMA / "videos"
    assert any(videos_dir.rglob("*.mp4"))

    await announce_drama_deleted(running.platform.bus, OWNER, DRAMA)

    async def forgotten() -> bool:
        left = await running.platform.docs.count(VIDEOS, {"drama_id": DRAMA})
        return left == 0 and not any(videos_dir.rglob("*.mp4"))

    await eventually(forgotten, timeout=20)
    storyboards = running.root / "media" / "dramas" / DRAMA / "storyboards"
    assert any(storyboards.rglob("*.png"))  # the video service deletes only its own media


async def test_final_cuts_render_as_segment_tasks_and_reuse_them(running: Running) -> None:
    """Each shot is a `segment` task on JetStream; a second identical render encodes none,
    and a new camera move on one shot re-encodes only the segments that draw it."""
    del running.peers.boards["sb_nofr"]
    docs = running.platform.docs

    async def render() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        ref = await running.call(
            "RenderFinalCut",
            videos_pb2.RenderFinalCutRequest(
                storyboards=boards(), resolution=f"{W}x{H}", frame_rate=12, transition="crossfade"
            ),
        )
        task = await running.finished(ref.task_id)
        assert task["status"] == "completed", task["error"]
        jobs = await docs.find("tasks", {"kind": "segment", "parent_id": ref.task_id})
        return task, jobs

    first, jobs = await render()
    assert first["result"]["segments"] == {"total": 3, "encoded": 3}
    assert len(jobs) == 3 and all(j["status"] == "completed" for j in jobs)
    assert all(j["service"] == "video" and j["owner_id"] == OWNER for j in jobs)

    again, jobs = await render()
    assert again["result"]["segments"] == {"total": 3, "encoded": 0} and jobs == []

    running.peers.boards["sb_2"].camera_movement = "pan_left"
    moved, jobs = await render()
    # Segment 1 draws the crossfade into shot 2, segment 2 the shot itself.
    assert moved["result"]["segments"] == {"total": 3, "encoded": 2} and len(jobs) == 2
    assert all(any(s["camera_movement"] == "pan_left" for s in j["payload"]["shots"]) for j in jobs)
    assert moved["result"]["video"]["duration"] == first["result"]["video"]["duration"]
