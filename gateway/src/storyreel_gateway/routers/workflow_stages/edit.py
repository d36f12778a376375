"""Seed 001 §8, the edit stage: the final cut of a video run's shots with voices, subtitles and
the music bed (`RenderFinalCut`), rendered again with an uploaded music track, and read."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlparse

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from storyreel_core.errors import NotFound, ValidationFailed
from storyreel_core.ids import id_pattern, is_id
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import assets_pb2, videos_pb2
from storyreel_core.rpc.clients import call
from storyreel_gateway.deps import CurrentUser, State, base_url
from storyreel_gateway.envelope import Envelope, ok
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.links import TASK_LINKS
from storyreel_gateway.routers.workflow_stages.runs import (
    STARTS_A_RUN,
    EditRunId,
    WorkflowRef,
    accept_run,
    load_run,
    named_drama,
    same_drama,
    sign,
    stage_runs,
    task_result,
)
from storyreel_gateway.state import GatewayState

router = APIRouter(route_class=CheckedRoute)
log = get_logger("storyreel.gateway.workflow_stages")


class EditOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    add_audio_effects: bool = False
    add_background_music: bool = True
    music_style: str = Field(default="", max_length=40, description="recorded; the built-in bed")
    subtitles: bool = True
    resolution: str = Field(default="", max_length=20)
    frame_rate: int = Field(default=0, ge=0, le=60)
    transition: str = Field(default="", max_length=20)


class EditStageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow_id: WorkflowRef = None
    video_id: str = Field(pattern=id_pattern("wvideo"), max_length=100)
    options: EditOptionsIn = Field(default_factory=EditOptionsIn)


class MusicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    music_asset_id: str | None = Field(
        default=None,
        pattern=id_pattern("asset"),
        max_length=100,
        description="an uploaded audio asset of the drama; unset = the built-in bed",
    )
    music_url: str | None = Field(
        default=None, max_length=4096, description="a signed /media URL of such an asset"
    )
    volume: float = Field(default=0.3, ge=0, le=1)
    fade_in: float = Field(default=2.0, ge=0, le=30)
    fade_out: float = Field(default=2.0, ge=0, le=30)


class MusicAccepted(BaseModel):
    edit_id: str
    task_id: str
    status: str


class EditOut(BaseModel):
    id: str
    drama_id: str
    task_id: str
    task_ids: list[str]
    final_video_url: str | None
    thumbnail_url: str | None
    subtitle_url: str | None
    audio_effects: list[str]
    background_music_url: str | None
    music: dict[str, Any]
    status: str
    duration: float
    created_at: str


# --- edit (§8) ----------------------------------------------------------------------------


async def _render(state: GatewayState, uid: str, run: dict[str, Any], music: dict[str, Any]) -> str:
    """Start a final cut of the run's shots with its options and `music`; the task's id."""
    opts = run["options"]
    options = videos_pb2.MusicOptions(
        enabled=bool(music.get("enabled")), asset_id=music.get("asset_id") or ""
    )
    for name in ("volume", "fade_in", "fade_out"):
        if music.get(name) is not None:
            setattr(options, name, float(music[name]))
    ref = await call(
        state.stubs.videos.RenderFinalCut,
        videos_pb2.RenderFinalCutRequest(
            storyboards=videos_pb2.DramaStoryboards(
                drama_id=run["drama_id"], storyboard_ids=run["shot_ids"]
            ),
            subtitles=videos_pb2.SubtitleOptions(enabled=bool(opts.get("subtitles", True))),
            music=options,
            resolution=opts.get("resolution") or "",
            frame_rate=int(opts.get("frame_rate") or 0),
            transition=opts.get("transition") or "",
        ),
        user_id=uid,
    )
    return str(ref.task_id)


@router.post(
    "/edit",
    **STARTS_A_RUN,
    summary="The final cut: voices, subtitles and music (seed 001 §8.1)",
)
async def create_edit(body: EditStageIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """`RenderFinalCut` over the video run's shots: subtitles burned in (`subtitles`), the
    built-in music bed with `add_background_music`. `add_audio_effects` and `music_style` are
    recorded; no sound effects are added (`audio_effects` stays empty)."""
    uid = user["_id"]
    video = await stage_runs(state).get(uid, "video", body.video_id)
    drama = same_drama(video, await named_drama(state, uid, body.workflow_id, None), "video_id")
    run_id = stage_runs(state).new_id("edit")
    music = {
        "enabled": body.options.add_background_music,
        "asset_id": "",
        "volume": None,
        "fade_in": None,
        "fade_out": None,
    }
    run = {
        "_id": run_id,
        "drama_id": drama,
        "shot_ids": video["shot_ids"],
        "options": body.options.model_dump(mode="json"),
    }
    task_id = await _render(state, uid, run, music)
    return await accept_run(
        state,
        uid,
        "edit",
        drama,
        [task_id],
        status="pending",
        workflow_id=body.workflow_id,
        run_id=run_id,
        shot_ids=video["shot_ids"],
        video_id=video["_id"],
        options=run["options"],
        music=music,
    )


def _asset_from_media_url(url: str) -> str:
    """The asset id inside a signed media URL of an asset (`/media/dramas/<d>/assets/<id>/…`)."""
    try:
        parts = unquote(urlparse(url).path).split("/")
    except ValueError:  # not a URL at all
        parts = []
    for i, part in enumerate(parts[:-1]):
        if part == "assets" and is_id(parts[i + 1], "asset"):
            return parts[i + 1]
    raise ValidationFailed(
        "music_url is not the media URL of an uploaded audio asset", field="music_url"
    )


@router.post(
    "/edit/{wedit_id}/music",
    status_code=202,
    response_model=Envelope[MusicAccepted],
    responses=TASK_LINKS,
    summary="Render the cut again with background music (seed 001 §8.2)",
)
async def edit_music(
    wedit_id: EditRunId, body: MusicIn, state: State, user: CurrentUser
) -> dict[str, Any]:
    """`music_asset_id` (or `music_url`, a signed media URL of it): an audio asset of the drama
    (`POST /dramas/{id}/assets/upload`); neither = the built-in bed. `volume` 0–1 against the
    voices, `fade_in`/`fade_out` seconds. A new render task; `GET /workflow/edit/{id}` shows
    the newest."""
    uid = user["_id"]
    run = await stage_runs(state).get(uid, "edit", wedit_id)
    asset_id = body.music_asset_id or (
        _asset_from_media_url(body.music_url) if body.music_url else ""
    )
    if asset_id:
        asset = await call(
            state.stubs.assets.GetAsset,
            assets_pb2.AssetRef(drama_id=run["drama_id"], asset_id=asset_id),
            user_id=uid,
        )
        if asset.media_type != "audio":
            raise ValidationFailed("the music asset is not audio", field="music_asset_id")
    music = {
        "enabled": True,
        "asset_id": asset_id,
        "volume": body.volume,
        "fade_in": body.fade_in,
        "fade_out": body.fade_out,
    }
    task_id = await _render(state, uid, run, music)
    await stage_runs(state).update(run["_id"], task_ids=[*run["task_ids"], task_id], music=music)
    return ok({"edit_id": run["_id"], "task_id": task_id, "status": "processing"})


@router.get("/edit/{wedit_id}", response_model=Envelope[EditOut])
async def get_edit(
    wedit_id: EditRunId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Seed 001 §8.3: the newest render's `final_video_url` (subtitles burned in),
    `subtitle_url` (SRT), `thumbnail_url`, `duration`, and the music it used."""
    uid = user["_id"]
    loaded = await load_run(state, uid, "edit", wedit_id)
    run, task = loaded.run, loaded.task
    video = (task_result(task).get("video") or {}) if task.status == "completed" else {}
    base = base_url(request)
    music = dict(run.get("music") or {})
    music_url: str | None = None
    if music.get("asset_id"):
        try:
            asset = await call(
                state.stubs.assets.GetAsset,
                assets_pb2.AssetRef(drama_id=run["drama_id"], asset_id=music["asset_id"]),
                user_id=uid,
            )
            music_url = sign(state, asset.key, base)
        except NotFound:
            music_url = None
    return ok(
        loaded.view()
        | {
            "task_ids": run["task_ids"],
            "final_video_url": sign(state, str(video.get("key") or ""), base),
            "thumbnail_url": sign(state, str(video.get("thumbnail_key") or ""), base),
            "subtitle_url": sign(state, str(video.get("subtitle_key") or ""), base),
            "audio_effects": [],
            "background_music_url": music_url,
            "music": music,
            "duration": float(video.get("duration") or 0.0),
        }
    )
