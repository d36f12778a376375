"""Seed 001 §7, the video stage: one clip per shot of an animatic or a storyboard
(`GenerateVideos`), followed segment by segment (`…/progress`) and read as clips."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from storyreel_core.errors import AppError, Code, ValidationFailed
from storyreel_core.ids import id_pattern
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import tasks_pb2, videos_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import object_to_dict
from storyreel_gateway.deps import CurrentUser, State, base_url
from storyreel_gateway.envelope import Envelope, ok
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.routers.workflow_stages.runs import (
    STAGE_STATUS,
    STARTS_A_RUN,
    VideoRunId,
    WorkflowRef,
    accept_run,
    clips_by_shot,
    load_run,
    named_drama,
    same_drama,
    sign,
    stage_runs,
    task_result,
)
from storyreel_gateway.routers.workflow_stages.storyboard import board_shots
from storyreel_gateway.state import GatewayState

router = APIRouter(route_class=CheckedRoute)
log = get_logger("storyreel.gateway.workflow_stages")

QUALITY = {"low": "480p", "medium": "720p", "high": "1080p"}


class VideoOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(
        default="", max_length=64, description="a video provider; '' = camera motion"
    )
    model: str = Field(default="", max_length=200)
    quality: Literal["low", "medium", "high"] = "medium"
    resolution: str = Field(default="", max_length=20, description="wins over quality")
    frame_rate: int = Field(default=0, ge=0, le=60)
    parallel: bool = True


class VideoStageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow_id: WorkflowRef = None
    animatic_id: str | None = Field(default=None, pattern=id_pattern("wanim"), max_length=100)
    storyboard_id: str | None = Field(default=None, pattern=id_pattern("wboard"), max_length=100)
    options: VideoOptionsIn = Field(default_factory=VideoOptionsIn)


class SegmentOut(BaseModel):
    id: str
    animatic_shot_id: str
    video_url: str | None = None
    thumbnail_url: str | None = None
    duration: float = 0.0
    status: str
    progress: float = 0.0


class VideoStageOut(BaseModel):
    id: str
    drama_id: str
    task_id: str
    segments: list[SegmentOut]
    status: str
    created_at: str


class VideoProgressOut(BaseModel):
    video_id: str
    status: str
    progress: float
    total_segments: int
    completed_segments: int
    segments: list[SegmentOut]


# --- video (§7) ---------------------------------------------------------------------------


@router.post(
    "/video",
    **STARTS_A_RUN,
    summary="One clip per shot (seed 001 §7.1)",
)
async def create_video(body: VideoStageIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """`GenerateVideos` over the animatic's (or the storyboard's) shots with their audio;
    `options.provider` a video model (GET /providers; default camera motion over the frame),
    `quality` low/medium/high = 480p/720p/1080p unless `resolution` names one."""
    uid = user["_id"]
    if body.animatic_id:
        source = await stage_runs(state).get(uid, "animatic", body.animatic_id)
    elif body.storyboard_id:
        source = await stage_runs(state).get(uid, "storyboard", body.storyboard_id)
        await board_shots(state, uid, source)
    else:
        raise ValidationFailed("give animatic_id or storyboard_id", field="animatic_id")
    drama = same_drama(source, await named_drama(state, uid, body.workflow_id, None), "animatic_id")
    shot_ids = list(source.get("shot_ids") or [])
    if not shot_ids:
        raise AppError(
            "the storyboard is not completed yet", code=Code.EXISTS, field="storyboard_id"
        )
    opts = body.options
    ref = await call(
        state.stubs.videos.GenerateVideos,
        videos_pb2.GenerateVideosRequest(
            drama_id=drama,
            storyboard_ids=shot_ids,
            settings=videos_pb2.ClipSettings(
                resolution=opts.resolution or QUALITY[opts.quality], frame_rate=opts.frame_rate
            ),
            video_provider=opts.provider,
            video_model=opts.model,
        ),
        user_id=uid,
    )
    return await accept_run(
        state,
        uid,
        "video",
        drama,
        [ref.task_id],
        status=ref.status,
        workflow_id=body.workflow_id,
        shot_ids=shot_ids,
    )


def _segments(
    state: GatewayState, run: dict[str, Any], task: tasks_pb2.Task, base: str
) -> list[dict[str, Any]]:
    """A segment per shot of the run: its clip once the task stored it, else where the task
    is (processing the shot it reports as its current item, pending, failed)."""
    clips = clips_by_shot(task_result(task)) if task.status == "completed" else {}
    current = object_to_dict(task.current_item)
    done = task.progress.completed
    out: list[dict[str, Any]] = []
    for i, shot_id in enumerate(run["shot_ids"]):
        clip = clips.get(shot_id)
        if clip is not None:
            out.append(
                {
                    "id": clip["id"],
                    "animatic_shot_id": shot_id,
                    "status": "completed",
                    "video_url": sign(state, clip.get("key", ""), base),
                    "thumbnail_url": sign(state, clip.get("thumbnail_key", ""), base),
                    "duration": float(clip.get("duration") or 0),
                    "progress": 1.0,
                }
            )
            continue
        if task.status == "completed":
            status = "failed"
        elif task.status in ("failed", "cancelled"):
            status = task.status
        elif i < done:
            status = "completed"
        elif current.get("storyboard_id") == shot_id:
            status = "processing"
        else:
            status = "pending"
        out.append(
            {
                "id": f"segment_{i + 1:03d}",
                "animatic_shot_id": shot_id,
                "status": status,
                "progress": 1.0 if status == "completed" else 0.0,
            }
        )
    return out


@router.get("/video/{wvideo_id}/progress", response_model=Envelope[VideoProgressOut])
async def video_progress(
    wvideo_id: VideoRunId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Seed 001 §7.2: `progress` 0–1, `total_segments`, `completed_segments`, a segment per
    shot (its clip's `video_url` once the task has stored it)."""
    loaded = await load_run(state, user["_id"], "video", wvideo_id)
    run, task = loaded.run, loaded.task
    segments = _segments(state, run, task, base_url(request))
    done = sum(1 for s in segments if s["status"] == "completed")
    progress = 1.0 if task.status == "completed" else task.progress.percentage / 100
    return ok(
        {
            "video_id": run["_id"],
            "status": STAGE_STATUS.get(task.status, task.status),
            "progress": round(min(max(progress, 0.0), 1.0), 4),
            "total_segments": len(segments),
            "completed_segments": done,
            "segments": segments,
        }
    )


@router.get("/video/{wvideo_id}", response_model=Envelope[VideoStageOut])
async def get_video(
    wvideo_id: VideoRunId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Seed 001 §7.3: each shot's clip (`video_url`, `duration`, `status`)."""
    loaded = await load_run(state, user["_id"], "video", wvideo_id)
    segments = _segments(state, loaded.run, loaded.task, base_url(request))
    return ok(loaded.view() | {"segments": segments})
