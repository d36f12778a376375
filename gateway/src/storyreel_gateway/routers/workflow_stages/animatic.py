"""Seed 001 §6, the animatic stage: every shot with words spoken (`GenerateShotAudio`), then a
motion preview of the shots (`GenerateVideos`) started once the speech is done; read per shot
on the animatic's timeline; one shot's audio spoken again or uploaded."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.ids import id_pattern
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import storyboards_pb2, videos_pb2
from storyreel_core.rpc.clients import call
from storyreel_gateway.deps import CurrentUser, State, base_url
from storyreel_gateway.envelope import Envelope, ok
from storyreel_gateway.json_body import BODY_LIMIT_KEY, UPLOAD, CheckedRoute, read_json
from storyreel_gateway.links import TASK_LINKS
from storyreel_gateway.routers.workflow_stages.runs import (
    ACTIVE,
    PAGE,
    STARTS_A_RUN,
    AnimaticRunId,
    WorkflowRef,
    accept_run,
    clips_by_shot,
    get_task,
    named_drama,
    overall_status,
    same_drama,
    sign,
    stage_runs,
    task_result,
)
from storyreel_gateway.routers.workflow_stages.storyboard import board_shots
from storyreel_gateway.state import GatewayState
from storyreel_gateway.uploads import staged_upload

router = APIRouter(route_class=CheckedRoute)
log = get_logger("storyreel.gateway.workflow_stages")

ANIMATIC_POLL_S = 0.5
ANIMATIC_WAIT_S = 3600.0
_background: set[asyncio.Task[None]] = set()


class DurationControl(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: float = Field(default=0.5, ge=0.5, le=60)
    max: float = Field(default=60, ge=0.5, le=60)


class AnimaticOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    video_provider: str = Field(default="", max_length=64)
    video_model: str = Field(default="", max_length=200)
    audio_provider: str = Field(default="", max_length=80)
    voice: str = Field(default="", max_length=80)
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    duration_control: DurationControl | None = None
    resolution: str = Field(default="", max_length=20, examples=["720p"])
    frame_rate: int = Field(default=0, ge=0, le=60)


class AnimaticStageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow_id: WorkflowRef = None
    storyboard_id: str = Field(pattern=id_pattern("wboard"), max_length=100)
    options: AnimaticOptionsIn = Field(default_factory=AnimaticOptionsIn)


class AnimaticShotOut(BaseModel):
    shot_id: str
    video_url: str | None
    audio_url: str | None
    start_time: float
    duration: float
    audio_duration: float
    audio_status: str


class AnimaticOut(BaseModel):
    id: str
    drama_id: str
    storyboard_id: str
    task_id: str
    motion_task_id: str
    task_ids: list[str]
    video_url: str | None
    audio_url: str | None
    shots: list[AnimaticShotOut]
    total_duration: float
    status: str
    created_at: str


class AudioOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(default="", max_length=80)
    voice_id: str = Field(default="", max_length=80)
    speed: float = Field(default=1.0, ge=0.5, le=2.0)


class AnimaticAudioIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shot_id: str = Field(pattern=id_pattern("sb"), max_length=100)
    text: str = Field(default="", max_length=5000)
    options: AudioOptionsIn = Field(default_factory=AudioOptionsIn)


class ShotAudioOut(BaseModel):
    shot_id: str
    audio_url: str | None
    duration: float
    task_id: str | None = None
    status: str


async def _read_body(request: Request, model: type[BaseModel], limit: int = 64 * 1024) -> Any:
    """The JSON body as `model` (a JSON body beside a multipart one: FastAPI cannot read it)."""
    data = await read_json(request, limit)
    if not isinstance(data, dict):
        raise ValidationFailed("request body must be a JSON object", field="body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


# --- animatic (§6) ------------------------------------------------------------------------


def _speaks(shot: storyboards_pb2.Storyboard) -> bool:
    return bool(shot.narration.strip() or any(d.text.strip() for d in shot.dialogue))


async def _start_motion(state: GatewayState, uid: str, run: dict[str, Any]) -> None:
    """Start the animatic's motion preview (idempotent: the task id is the run's own)."""
    opts = run["options"]
    await call(
        state.stubs.videos.GenerateVideos,
        videos_pb2.GenerateVideosRequest(
            drama_id=run["drama_id"],
            storyboard_ids=run["shot_ids"],
            settings=videos_pb2.ClipSettings(
                resolution=opts.get("resolution") or "", frame_rate=int(opts.get("frame_rate") or 0)
            ),
            video_provider=opts.get("video_provider") or "",
            video_model=opts.get("video_model") or "",
        ),
        user_id=uid,
        task_id=run["motion_task_id"],
    )


async def _advance_animatic(state: GatewayState, uid: str, run: dict[str, Any]) -> bool:
    """Start the motion preview once every audio task has finished; True once started."""
    if run.get("motion_started"):
        return True
    for task_id in run["audio_task_ids"]:
        if (await get_task(state, uid, task_id)).status in ACTIVE:
            return False
    await _start_motion(state, uid, run)
    await stage_runs(state).update(run["_id"], motion_started=True)
    run["motion_started"] = True
    return True


async def _animatic_later(state: GatewayState, uid: str, run: dict[str, Any]) -> None:
    """Wait in the background for the audio, then start the motion preview (a GET does the
    same, so a gateway restarted meanwhile loses nothing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ANIMATIC_WAIT_S
    try:
        while loop.time() < deadline:
            if await _advance_animatic(state, uid, run):
                return
            await asyncio.sleep(ANIMATIC_POLL_S)
    except Exception as exc:  # logged: the next GET tries again and shows the error
        log.warning("workflow_stages.animatic_failed", run_id=run["_id"], error=str(exc)[:300])


async def _begin_motion(state: GatewayState, uid: str, run: dict[str, Any]) -> None:
    """A new animatic without speech starts its motion preview now; one with speech waits for
    it in the background."""
    if not run["audio_task_ids"]:
        await _advance_animatic(state, uid, run)
    else:
        job = asyncio.create_task(_animatic_later(state, uid, run))
        _background.add(job)
        job.add_done_callback(_background.discard)


@router.post(
    "/animatic",
    **STARTS_A_RUN,
    summary="Speak every shot, then preview its motion (seed 001 §6.1)",
)
async def create_animatic(body: AnimaticStageIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """A `GenerateShotAudio` task per shot with narration or lines (`audio_provider`, `voice`),
    then one `GenerateVideos` task for the motion preview (`video_provider`; its id is
    `motion_task_id`, started when the audio is done). `duration_control{min, max}` bounds each
    shot's planned length first (speech longer than `max` still lengthens its shot).
    `task_id` is the first task started, `task_ids` every one."""
    uid = user["_id"]
    board = await stage_runs(state).get(uid, "storyboard", body.storyboard_id)
    drama = same_drama(
        board, await named_drama(state, uid, body.workflow_id, None), "storyboard_id"
    )
    shots, statuses = await board_shots(state, uid, board)
    if overall_status(statuses) != "completed" or not shots:
        raise AppError(
            "the storyboard is not completed yet", code=Code.EXISTS, field="storyboard_id"
        )
    opts = body.options
    bounds = opts.duration_control
    if bounds is not None:
        if bounds.min > bounds.max:
            raise ValidationFailed(
                "duration_control.min exceeds max", field="options.duration_control"
            )
        for s in shots:
            clamped = min(max(s.duration, bounds.min), bounds.max)
            if abs(clamped - s.duration) > 1e-6:
                await call(
                    state.stubs.storyboards.UpdateStoryboard,
                    storyboards_pb2.UpdateStoryboardRequest(
                        drama_id=drama, storyboard_id=s.id, duration=clamped
                    ),
                    user_id=uid,
                )
    runs = stage_runs(state)
    run_id = runs.new_id("animatic")
    tail = run_id.removeprefix("wanim_")
    audio_ids: list[str] = []
    for i, s in enumerate(shots):
        if not _speaks(s):
            continue
        ref = await call(
            state.stubs.storyboards.GenerateShotAudio,
            storyboards_pb2.GenerateShotAudioRequest(
                drama_id=drama,
                storyboard_id=s.id,
                voice=opts.voice,
                speed=opts.speed,
                audio_provider=opts.audio_provider,
            ),
            user_id=uid,
            task_id=f"task_{tail}_a{i}",
        )
        audio_ids.append(ref.task_id)
    return await accept_run(
        state,
        uid,
        "animatic",
        drama,
        [*audio_ids, f"task_{tail}_motion"],
        status="pending",
        workflow_id=body.workflow_id,
        run_id=run_id,
        started=lambda run: _begin_motion(state, uid, run),
        storyboard_id=board["_id"],
        shot_ids=[s.id for s in shots],
        audio_task_ids=audio_ids,
        motion_task_id=f"task_{tail}_motion",
        motion_started=False,
        options=opts.model_dump(mode="json", exclude={"duration_control"}),
    )


@router.get("/animatic/{wanim_id}", response_model=Envelope[AnimaticOut])
async def get_animatic(
    wanim_id: AnimaticRunId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Per shot (seed 001 §6.2): its preview clip (`video_url`, voice included), its speech
    (`audio_url`), `start_time` and `duration` on the animatic's timeline; `total_duration`."""
    uid = user["_id"]
    run = await stage_runs(state).get(uid, "animatic", wanim_id)
    try:
        await _advance_animatic(state, uid, run)
    except AppError as exc:
        log.warning("workflow_stages.animatic_start", run_id=run["_id"], error=exc.message[:300])
    statuses = [(await get_task(state, uid, t)).status for t in run["audio_task_ids"]]
    clips: dict[str, dict[str, Any]] = {}
    if run.get("motion_started"):
        motion = await get_task(state, uid, run["motion_task_id"])
        statuses.append(motion.status)
        clips = clips_by_shot(task_result(motion)) if motion.status == "completed" else {}
    else:
        statuses.append("pending")
    listed = await call(
        state.stubs.storyboards.ListStoryboards,
        storyboards_pb2.ListStoryboardsRequest(drama_id=run["drama_id"], page=1, per_page=PAGE),
        user_id=uid,
    )
    by_id = {s.id: s for s in listed.storyboards}
    base = base_url(request)
    shots: list[dict[str, Any]] = []
    clock = 0.0
    for shot_id in run["shot_ids"]:
        s = by_id.get(shot_id)
        if s is None:
            continue
        clip = clips.get(shot_id) or {}
        duration = float(clip.get("duration") or max(s.duration, s.audio_duration))
        shots.append(
            {
                "shot_id": shot_id,
                "video_url": sign(state, str(clip.get("key") or ""), base),
                "audio_url": sign(state, s.audio_key, base),
                "start_time": round(clock, 3),
                "duration": duration,
                "audio_duration": s.audio_duration,
                "audio_status": s.audio_source or ("pending" if _speaks(s) else "none"),
            }
        )
        clock += duration
    return ok(
        {
            "id": run["_id"],
            "drama_id": run["drama_id"],
            "storyboard_id": run["storyboard_id"],
            "task_id": run["task_ids"][0],
            "motion_task_id": run["motion_task_id"],
            "task_ids": run["task_ids"],
            "video_url": None,
            "audio_url": None,
            "shots": shots,
            "total_duration": round(clock, 3),
            "status": overall_status(statuses),
            "created_at": run["created_at"],
        }
    )


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its nested models written in place: a request body given
    through `openapi_extra` has no `$defs` of its own in the OpenAPI document."""
    schema = model.model_json_schema()
    defs: dict[str, Any] = schema.pop("$defs", {})

    def expand(node: Any) -> Any:
        if isinstance(node, list):
            return [expand(n) for n in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return expand(defs[ref.removeprefix("#/$defs/")])
        return {k: expand(v) for k, v in node.items()}

    out: dict[str, Any] = expand(schema)
    return out


_AUDIO_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": inline_schema(AnimaticAudioIn)},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "shot_id"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "shot_id": {"type": "string", "pattern": id_pattern("sb")},
                },
            }
        },
    },
}


@router.post(
    "/animatic/{wanim_id}/audio",
    status_code=202,
    response_model=Envelope[ShotAudioOut],
    responses={
        201: {"model": Envelope[ShotAudioOut], "description": "the uploaded audio"},
        **TASK_LINKS,
    },
    openapi_extra={"requestBody": _AUDIO_BODY, BODY_LIMIT_KEY: UPLOAD},
    summary="Speak or upload one shot's audio (seed 001 §6.3)",
)
async def animatic_audio(
    wanim_id: AnimaticRunId, request: Request, state: State, user: CurrentUser
) -> Any:
    """JSON `{text, shot_id, options{provider, voice_id, speed}}` → 202 with the speech task
    (the shot's storyboard audio, as `POST /dramas/{id}/storyboards/{sid}/audio`); multipart
    `file` + `shot_id` (WAV/MP3/OGG/M4A by content, 415 otherwise) → 201 `{shot_id, audio_url,
    duration}`. Run `POST /workflow/video` to cut clips with it."""
    uid = user["_id"]
    run = await stage_runs(state).get(uid, "animatic", wanim_id)
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        async with staged_upload(
            request,
            state.objects,
            user_id=uid,
            file_field="file",
            limit=state.settings.max_upload_bytes,
        ) as upload:
            shot_id = upload.fields.get("shot_id", "").strip()
            if shot_id not in run["shot_ids"]:
                raise NotFound(f"shot {shot_id} not found", field="shot_id")
            msg = await call(
                state.stubs.storyboards.UploadShotAudio,
                storyboards_pb2.UploadShotAudioRequest(
                    drama_id=run["drama_id"],
                    storyboard_id=shot_id,
                    staging_key=upload.key,
                    filename=upload.filename,
                ),
                user_id=uid,
                timeout=max(state.settings.grpc_deadline_s, 120.0),
            )
        body = ok(
            {
                "shot_id": shot_id,
                "audio_url": sign(state, msg.audio_key, base_url(request)),
                "duration": msg.audio_duration,
                "task_id": None,
                "status": "completed",
            }
        )
        return JSONResponse(body, status_code=201)
    if content_type and not content_type.startswith("application/json"):
        raise AppError(
            "send application/json or multipart/form-data",
            code=Code.UNSUPPORTED_FILE,
            field="content-type",
        )
    audio: AnimaticAudioIn = await _read_body(request, AnimaticAudioIn)
    if audio.shot_id not in run["shot_ids"]:
        raise NotFound(f"shot {audio.shot_id} not found", field="shot_id")
    ref = await call(
        state.stubs.storyboards.GenerateShotAudio,
        storyboards_pb2.GenerateShotAudioRequest(
            drama_id=run["drama_id"],
            storyboard_id=audio.shot_id,
            text=audio.text,
            voice=audio.options.voice_id,
            speed=audio.options.speed,
            audio_provider=audio.options.provider,
        ),
        user_id=uid,
    )
    return ok(
        {
            "shot_id": audio.shot_id,
            "audio_url": None,
            "duration": 0.0,
            "task_id": ref.task_id,
            "status": ref.status,
        }
    )
