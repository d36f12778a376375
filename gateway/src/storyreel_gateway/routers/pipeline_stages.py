"""Seed 002's stage endpoints: `/pipeline/storyboard`, `/frames`, `/clips`, `/narration`.

Each starts a `pipeline_<stage>` task on the workflow service (`StartStageTask`), which runs
stage tasks (the storyboard: the studio's script and storyboards on a drama of its own; the
others: the frames, final cut and speech stages); results are read with `GET /tasks/{id}`, where
every `*_key` gets a signed `*_url`. Bounds are checked here (scenes 1-30, sizes, durations)
and again by the workflow service.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import AliasChoices, BaseModel, Field, model_validator

from storyreel_core.drama_models import CameraMovement, Transition
from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import tasks_pb2
from storyreel_core.resolutions import RESOLUTION_PATTERN, parse_resolution
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import stage_task_request
from storyreel_gateway.default_budget import effective_budget
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.fields import NOT_BLANK, Seed
from storyreel_gateway.json_body import BODY_LIMIT_KEY, CheckedRoute
from storyreel_gateway.links import TASK_LINKS
from storyreel_gateway.routers.pipeline import RENDER_BODY, Accepted, check_voice
from storyreel_gateway.routers.tasks import present
from storyreel_gateway.state import GatewayState

router = APIRouter(
    route_class=CheckedRoute, prefix="/pipeline", tags=["pipeline"], responses=ERROR_RESPONSES
)

MAX_SCENES = 30
SCENE_ID = r"^[A-Za-z0-9_-]{1,64}$"
# How long POST /pipeline/storyboard waits for its storyboard before answering 202 without it.
STORYBOARD_WAIT_S = 2.0
POLL_S = 0.1
SceneIdField = Field(pattern=SCENE_ID, max_length=64, examples=["s1"])


class StoryboardBody(BaseModel):
    story: str = Field(
        min_length=1,
        max_length=200_000,
        pattern=NOT_BLANK,
        examples=["一位独行武者穿越废土城市寻找真相"],
    )
    style: str = Field(
        default="", max_length=100, examples=["赛博朋克，冷色光影"], description="the script's"
    )
    scenes: int = Field(default=6, ge=1, le=MAX_SCENES, description="the most scenes (1-30)")
    seed: Seed = 0
    ai_provider: str | None = Field(
        default=None, max_length=64, description="a text provider of GET /providers (offline)"
    )
    model: str | None = Field(default=None, max_length=200)
    budget: float | None = Field(default=None, ge=0, description="US dollars (see Providers)")


class StoryboardLine(BaseModel):
    speaker: str
    text: str


class StoryboardScene(BaseModel):
    scene_id: str
    storyboard_id: str | None = Field(
        default=None, description="the scene's storyboard in the drama (studio API)"
    )
    title: str
    prompt: str
    narration: str
    bgm: str
    dialogue: list[StoryboardLine] = Field(default_factory=list)
    lines: list[StoryboardLine] = Field(default_factory=list)
    shot_type: str | None = None
    camera_movement: str | None = None
    duration: float | None = None


class StoryboardAccepted(Accepted):
    storyboard: list[StoryboardScene] | None = Field(
        default=None, description="present when the task completed within a few seconds"
    )
    title: str | None = None
    drama_id: str | None = Field(
        default=None, description="the drama the task made (with the storyboard)"
    )
    script_id: str | None = None
    language: str | None = None
    characters: list[dict[str, Any]] | None = Field(
        default=None, description="the cast the script names (as the task's result has it)"
    )
    notes: list[str] | None = Field(
        default=None, description="what the screenwriter could not do as asked (e.g. fewer scenes)"
    )


class SceneIn(BaseModel):
    scene_id: str = SceneIdField
    title: str = Field(default="", max_length=200)
    prompt: str = Field(default="", max_length=4000)
    narration: str = Field(default="", max_length=2000)


class ImageStyle(BaseModel):
    resolution: str = Field(
        default="720p",
        max_length=20,
        pattern=RESOLUTION_PATTERN,
        examples=["768x512"],
        description="360p | 480p | 540p | 720p | 1080p (vertical 9:16) or WxH, sides 64-4096",
    )
    num_steps: int = Field(default=4, ge=1, le=100)
    cfg_scale: float = Field(default=1.5, ge=0, le=30)
    seed: Seed = 0
    image_provider: str | None = Field(
        default=None, max_length=64, description="an image provider; unset = procedural frames"
    )
    image_model: str | None = Field(default=None, max_length=200)


def _unique(scene_ids: list[str], field: str) -> None:
    seen: set[str] = set()
    for n, scene_id in enumerate(scene_ids):
        if scene_id in seen:
            raise ValidationFailed(
                f"scene_id {scene_id!r} appears twice", field=f"{field}.{n}.scene_id"
            )
        seen.add(scene_id)


class FramesBody(BaseModel):
    storyboard: list[SceneIn] = Field(min_length=1, max_length=MAX_SCENES)
    image_style: ImageStyle = Field(default_factory=ImageStyle)
    style: str = Field(default="", max_length=200)
    budget: float | None = Field(default=None, ge=0)


class ClipFrame(BaseModel):
    scene_id: str = SceneIdField
    frame: str = Field(
        min_length=1,
        max_length=300,
        validation_alias=AliasChoices("frame", "frame_key"),
        description="a `frame_key` from a /pipeline/frames result (also `frame_key`)",
    )
    duration: float = Field(default=2.0, ge=0.5, le=60, description="seconds")
    transition: Transition | None = Field(
        default=None, description="into the next clip; one kind per request"
    )
    camera_movement: CameraMovement = "push_in"


class ClipVideo(BaseModel):
    fps: int = Field(default=12, ge=1, le=60)
    resolution: str = Field(
        default="720p", max_length=20, pattern=RESOLUTION_PATTERN, examples=["720p"]
    )
    transition: Transition | None = None
    transition_duration: float = Field(default=0.5, ge=0, le=5, description="seconds")
    video_provider: str | None = Field(
        default=None, max_length=64, description="a video provider; unset = camera motion"
    )
    video_model: str | None = Field(default=None, max_length=200)


class ClipsBody(BaseModel):
    frames: list[ClipFrame] = Field(min_length=1, max_length=MAX_SCENES)
    video: ClipVideo = Field(default_factory=ClipVideo)
    budget: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def one_transition(self) -> ClipsBody:
        kinds = {f.transition for f in self.frames if f.transition}
        if self.video.transition:
            kinds.add(self.video.transition)
        if len(kinds) > 1:
            raise ValueError(f"one transition per request, got {', '.join(sorted(kinds))}")
        return self


class LineIn(BaseModel):
    scene_id: str = SceneIdField
    text: str = Field(min_length=1, max_length=2000, pattern=NOT_BLANK)


class NarrationBody(BaseModel):
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_SCENES)
    voice: str | None = Field(
        default=None,
        max_length=80,
        validation_alias=AliasChoices("voice", "voice_id"),
        examples=["narrator-zh"],
        description="a voice id from GET /voices (also `voice_id`); unset = the narrator",
    )
    audio_provider: str | None = Field(
        default=None, max_length=80, validation_alias=AliasChoices("audio_provider", "provider")
    )
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    format: str = Field(default="wav", pattern=r"^wav$", description="wav (16-bit PCM)")
    budget: float | None = Field(default=None, ge=0)


async def start(
    state: GatewayState, user: dict[str, Any], kind: str, payload: dict[str, Any]
) -> dict[str, Any]:
    request = stage_task_request(kind, payload)
    ref = await call(state.stubs.workflow.StartStageTask, request, user_id=user["_id"])
    return {"task_id": ref.task_id, "status": ref.status, "estimated_time": ref.estimated_time}


def _budget(requested: float | None, state: GatewayState, user: dict[str, Any]) -> float | None:
    return effective_budget(requested, user, state.settings)


@router.post(
    "/storyboard",
    status_code=202,
    responses={
        **TASK_LINKS,
        200: {"model": Envelope[StoryboardAccepted], "description": "the storyboard is ready"},
    },
    response_model=Envelope[StoryboardAccepted],
    openapi_extra={BODY_LIMIT_KEY: RENDER_BODY},
)
async def storyboard(
    body: StoryboardBody, request: Request, response: Response, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Story → script → storyboard (seed 002 `/storyboard`): one scene each with `scene_id`,
    `title`, `prompt`, `narration`, `bgm`. The task makes a drama of yours with the script and
    a storyboard per scene (`drama_id`, `script_id`, each scene's `storyboard_id`), which the
    studio API reads and edits. Answers 200 with the `storyboard` when it is ready within a
    few seconds (the offline screenwriter), else 202 with the task id; the task's
    `result.storyboard` holds it either way."""
    payload = body.model_dump(mode="json")
    payload["ai_provider"] = body.ai_provider or ""
    payload["model"] = body.model or ""
    payload["budget"] = _budget(body.budget, state, user)
    accepted = await start(state, user, "storyboard", payload)
    deadline = time.monotonic() + STORYBOARD_WAIT_S
    while time.monotonic() < deadline:
        msg = await call(
            state.stubs.tasks.GetTask,
            tasks_pb2.GetTaskRequest(task_id=accepted["task_id"]),
            user_id=user["_id"],
        )
        if msg.status in ("completed", "failed", "cancelled"):
            task = present(state, msg, request)
            accepted["status"] = task["status"]
            if task["status"] == "completed" and task["result"]:
                accepted["storyboard"] = task["result"]["storyboard"]
                # The whole result but its spend: the same fields GET /tasks/{id} shows.
                for field in ("title", "drama_id", "script_id", "language", "characters", "notes"):
                    accepted[field] = task["result"].get(field)
                response.status_code = 200
            break
        await asyncio.sleep(POLL_S)
    return ok(accepted)


@router.post(
    "/frames",
    status_code=202,
    responses=TASK_LINKS,
    response_model=Envelope[Accepted],
    openapi_extra={BODY_LIMIT_KEY: RENDER_BODY},
)
async def frames(body: FramesBody, state: State, user: CurrentUser) -> dict[str, Any]:
    """Seed 002's storyboard → one frame per scene at `image_style.resolution` (task; result
    `frames[{scene_id, frame_key, frame_url}]`, PNG)."""
    _unique([s.scene_id for s in body.storyboard], "storyboard")
    width, height = parse_resolution(body.image_style.resolution, "image_style.resolution")
    style = body.image_style
    payload = {
        "storyboard": [s.model_dump(mode="json") for s in body.storyboard],
        "style": body.style,
        "width": width,
        "height": height,
        "seed": style.seed,
        "num_steps": style.num_steps,
        "cfg_scale": style.cfg_scale,
        "image_provider": style.image_provider or "",
        "image_model": style.image_model or "",
        "budget": _budget(body.budget, state, user),
    }
    return ok(await start(state, user, "frames", payload))


@router.post(
    "/clips",
    status_code=202,
    responses=TASK_LINKS,
    response_model=Envelope[Accepted],
)
async def clips(body: ClipsBody, state: State, user: CurrentUser) -> dict[str, Any]:
    """Frames of /pipeline/frames → one clip per scene with its camera move (task; result
    `clips[{scene_id, clip_key, clip_url, duration}]` and the joined `video_url`). A frame
    that is not one of the caller's frames is 404."""
    _unique([f.scene_id for f in body.frames], "frames")
    width, height = parse_resolution(body.video.resolution, "video.resolution")
    transition = body.video.transition or next(
        (f.transition for f in body.frames if f.transition), "crossfade"
    )
    payload = {
        "frames": [
            {
                "scene_id": f.scene_id,
                "frame_key": f.frame,
                "duration": f.duration,
                "camera_movement": f.camera_movement,
            }
            for f in body.frames
        ],
        "width": width,
        "height": height,
        "fps": body.video.fps,
        "transition": transition,
        "transition_duration": body.video.transition_duration,
        "video_provider": body.video.video_provider or "",
        "video_model": body.video.video_model or "",
        "budget": _budget(body.budget, state, user),
    }
    return ok(await start(state, user, "clips", payload))


@router.post(
    "/narration",
    status_code=202,
    responses=TASK_LINKS,
    response_model=Envelope[Accepted],
)
async def narration(body: NarrationBody, state: State, user: CurrentUser) -> dict[str, Any]:
    """Each scene's text spoken by `voice` (task; result `audios[{scene_id, audio_key,
    audio_url, duration}]`, WAV). An unknown voice is 400 naming the voices of GET /voices."""
    _unique([x.scene_id for x in body.lines], "lines")
    try:
        await check_voice(state, user["_id"], body.audio_provider, body.voice)
    except ValidationFailed as exc:
        if exc.field != "options.voice":
            raise
        raise ValidationFailed(exc.message, field="voice") from exc
    payload = {
        "lines": [x.model_dump(mode="json") for x in body.lines],
        "voice": body.voice,
        "audio_provider": body.audio_provider,
        "speed": body.speed,
        "budget": _budget(body.budget, state, user),
    }
    return ok(await start(state, user, "narration", payload))
