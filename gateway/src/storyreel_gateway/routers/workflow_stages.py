"""Seed 001's stage endpoints (§3–§8): drive one workflow stage by hand on an ordinary drama.

Every stage runs the studio's own library tasks — the ones `POST /workflow` runs and the
studio API answers — on the drama the caller names (`drama_id`), the drama of a workflow
(`workflow_id`), or, for the script stage, a new drama. A stage run is a document of its own
(`stage_runs`, ids `wscript_…`, `wboard_…`, `wanim_…`, `wvideo_…`, `wedit_…`) that names its drama
and its tasks; `GET` on it reads the studio resources as they are now. Long work answers 202
with `task_id` (follow it at `GET /tasks/{id}` or over `/ws`) and the run's `id`.

| stage | studio work |
| --- | --- |
| script | `GenerateScript` (prompt, novel, Markdown, or an uploaded .txt/.md/.docx) |
| assets | `GenerateAssets`: a design image per character, prop and scene of the script |
| storyboard | `GenerateStoryboards` with frames; one grid image of them; `auto_crop` crops |
| animatic | `GenerateShotAudio` per shot with words, then `GenerateVideos` (the motion preview) |
| video | `GenerateVideos`: one clip per shot (`provider`: a video model) |
| edit | `RenderFinalCut`: voices, subtitles and the music bed |
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlparse

from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.ids import MAX_ID_LENGTH, id_pattern, is_id
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import (
    assets_pb2,
    script_pb2,
    storyboards_pb2,
    tasks_pb2,
    videos_pb2,
    workflows_pb2,
)
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import object_to_dict, objects_to_list, task_error_from_proto
from storyreel_gateway.default_budget import effective_budget
from storyreel_gateway.deps import CurrentUser, State, base_url
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.fields import NOT_BLANK, Seed
from storyreel_gateway.json_body import BODY_LIMIT_KEY, UPLOAD, CheckedRoute, read_json
from storyreel_gateway.links import TASK_LINKS
from storyreel_gateway.routers.script_upload import MAX_BODY_BYTES, MAX_TEXT_BYTES
from storyreel_gateway.script_files import CONTENT_TYPES, MAX_DOCX_BYTES, read_story_file
from storyreel_gateway.stage_runs import StageRuns
from storyreel_gateway.state import GatewayState
from storyreel_gateway.storyboard_grid import compose_grid, crop_cells, parse_layout
from storyreel_gateway.uploads import receive_form, staged_upload, upload_schema

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/workflow",
    tags=["workflow"],
    responses=ERROR_RESPONSES,
)
log = get_logger("storyreel.gateway.workflow_stages")

PAGE = 100
ACTIVE = frozenset({"pending", "running"})
STAGE_STATUS = {
    "pending": "pending",
    "running": "processing",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
}
QUALITY = {"low": "480p", "medium": "720p", "high": "1080p"}
ANIMATIC_POLL_S = 0.5
ANIMATIC_WAIT_S = 3600.0
_background: set[asyncio.Task[None]] = set()


def _path_doc(prefix: str) -> str:
    return f"a `{prefix}_…` id from the stage's 202"


ScriptRunId = Annotated[
    str,
    Path(pattern=id_pattern("wscript"), max_length=MAX_ID_LENGTH, description=_path_doc("wscript")),
]
BoardRunId = Annotated[
    str,
    Path(pattern=id_pattern("wboard"), max_length=MAX_ID_LENGTH, description=_path_doc("wboard")),
]
AnimaticRunId = Annotated[
    str, Path(pattern=id_pattern("wanim"), max_length=MAX_ID_LENGTH, description=_path_doc("wanim"))
]
VideoRunId = Annotated[
    str,
    Path(pattern=id_pattern("wvideo"), max_length=MAX_ID_LENGTH, description=_path_doc("wvideo")),
]
EditRunId = Annotated[
    str, Path(pattern=id_pattern("wedit"), max_length=MAX_ID_LENGTH, description=_path_doc("wedit"))
]
AssetPathId = Annotated[
    str, Path(pattern=id_pattern("asset"), max_length=MAX_ID_LENGTH, description="a design asset")
]
ShotPathId = Annotated[
    str, Path(pattern=id_pattern("sb"), max_length=MAX_ID_LENGTH, description="a shot of the run")
]
WorkflowRef = Annotated[str | None, Field(default=None, pattern=id_pattern("wf"), max_length=100)]
DramaRef = Annotated[str | None, Field(default=None, pattern=id_pattern("drama"), max_length=100)]


_stores: dict[int, StageRuns] = {}


def _runs(state: GatewayState) -> StageRuns:
    """The stage runs over this gateway's document store (one per store: indexes once)."""
    runs = _stores.get(id(state.docs))
    if runs is None or runs.docs is not state.docs:
        runs = _stores[id(state.docs)] = StageRuns(state.docs)
    return runs


# --- models -------------------------------------------------------------------------------


class StageAccepted(BaseModel):
    task_id: str
    status: str
    id: str = Field(description="the stage run: GET /workflow/<stage>/{id}")
    drama_id: str
    task_ids: list[str] = Field(default_factory=list, description="every task it started")


class ScriptOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ai_provider: str | None = Field(default=None, max_length=64, examples=["offline"])
    model: str | None = Field(default=None, max_length=200)
    style: str = Field(default="", max_length=100)
    language: Literal["zh", "en"] | None = None
    scene_count: int | None = Field(default=None, ge=1, le=30)
    budget: float | None = Field(default=None, ge=0, le=1_000_000)


class ScriptStageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow_id: WorkflowRef = None
    drama_id: DramaRef = None
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=NOT_BLANK,
        description="the new drama's name when neither workflow_id nor drama_id is given",
    )
    input_type: Literal["prompt", "novel", "markdown", "file"] = "prompt"
    input_content: str = Field(default="", max_length=1_000_000)
    input_file_url: str | None = Field(
        default=None, max_length=4096, description="the file_url of POST /workflow/script/upload"
    )
    input_file_id: str | None = Field(default=None, pattern=id_pattern("wfile"), max_length=100)
    options: ScriptOptionsIn = Field(default_factory=ScriptOptionsIn)


class ScriptStageOut(BaseModel):
    id: str
    drama_id: str
    workflow_id: str | None
    task_id: str
    script_id: str | None
    input_type: str
    title: str
    screenplay: str
    storyboard_script: str
    scenes: list[dict[str, Any]]
    scene_count: int
    status: str
    error: dict[str, Any] | None = None
    created_at: str


class UploadOut(BaseModel):
    file_id: str
    file_url: str
    file_name: str
    file_size: int
    content_type: str
    text_length: int
    workflow_id: str | None = None


class DesignItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["character", "prop", "scene"]
    name: str = Field(min_length=1, max_length=100, pattern=NOT_BLANK)
    description: str = Field(default="", max_length=2000)


class AssetOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ai_provider: str | None = Field(
        default=None, max_length=64, description="recorded; the items come from the script"
    )
    image_provider: str = Field(
        default="", max_length=64, description="GET /providers; '' = offline"
    )
    image_model: str = Field(default="", max_length=200)
    style: str = Field(default="", max_length=200)
    seed: Seed = 0


class AssetsStageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow_id: WorkflowRef = None
    drama_id: DramaRef = None
    script_id: str | None = Field(
        default=None, max_length=100, description="a wscript_ run or a script_ of the drama"
    )
    items: list[DesignItemIn] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="default: the script's cast and places",
    )
    options: AssetOptionsIn = Field(default_factory=AssetOptionsIn)


class StageAssetOut(BaseModel):
    id: str
    drama_id: str
    type: str
    name: str
    description: str
    prompt: str
    design_image_url: str | None
    thumbnail_url: str | None
    reference_image_url: str | None
    source: str
    status: str
    created_at: str
    updated_at: str


class AssetListOut(BaseModel):
    assets: list[StageAssetOut]
    total: int


class ReferenceOut(BaseModel):
    asset_id: str
    reference_asset_id: str
    reference_image_url: str
    status: str


class RegenerateAssetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str | None = Field(default=None, max_length=2000)
    options: AssetOptionsIn = Field(default_factory=AssetOptionsIn)


class AssetRegenerated(BaseModel):
    asset_id: str
    task_id: str
    status: str


class BoardOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grid_layout: str = Field(default="3x3", max_length=5, examples=["3x3"])
    auto_crop: bool = False
    ai_provider: str = Field(default="", max_length=64, description="the image provider")
    image_provider: str = Field(default="", max_length=64, description="wins over ai_provider")
    image_model: str = Field(default="", max_length=200)
    image_style: str = Field(default="", max_length=100)
    shot_type: str = Field(default="auto", max_length=40)
    count_per_scene: int = Field(default=1, ge=1, le=6)
    aspect_ratio: Literal["9:16", "16:9", "1:1"] = "9:16"
    seed: Seed = 0


class BoardStageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow_id: WorkflowRef = None
    drama_id: DramaRef = None
    script_id: str | None = Field(default=None, max_length=100)
    options: BoardOptionsIn = Field(default_factory=BoardOptionsIn)


class ShotOut(BaseModel):
    id: str
    sequence: int
    prompt: str
    description: str
    shot_type: str
    image_url: str | None
    cropped_image_url: str | None
    image_status: str
    dialogue: str
    narration: str
    duration: float


class BoardOut(BaseModel):
    id: str
    drama_id: str
    workflow_id: str | None
    task_id: str
    task_ids: list[str]
    shots: list[ShotOut]
    grid_layout: str
    grid_image_url: str | None
    grid_shot_ids: list[str]
    auto_crop: bool
    status: str
    created_at: str


class Replacements(BaseModel):
    model_config = ConfigDict(extra="forbid")

    character: str = Field(default="", max_length=500)
    scene: str = Field(default="", max_length=500)
    action: str = Field(default="", max_length=500)
    shot_type: str = Field(default="", max_length=40)


class ShotEditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str | None = Field(default=None, max_length=2000)
    replacements: Replacements = Field(default_factory=Replacements)


class ShotEdited(BaseModel):
    shot_id: str
    prompt: str
    shot_type: str
    status: str


class BoardRegenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shot_ids: list[Annotated[str, Field(pattern=id_pattern("sb"), max_length=100)]] | None = Field(
        default=None, max_length=100, description="default: the edited shots, else every shot"
    )
    options: BoardOptionsIn = Field(default_factory=BoardOptionsIn)


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


# --- helpers ------------------------------------------------------------------------------


async def _task(state: GatewayState, user_id: str, task_id: str) -> tasks_pb2.Task:
    return await call(
        state.stubs.tasks.GetTask, tasks_pb2.GetTaskRequest(task_id=task_id), user_id=user_id
    )


def _result(task: tasks_pb2.Task) -> dict[str, Any]:
    return object_to_dict(task.result)


def _error(task: tasks_pb2.Task) -> dict[str, Any] | None:
    if task.status not in ("failed", "cancelled"):
        return None
    return task_error_from_proto(task) or {"reason": task.status}


def _overall(statuses: list[str]) -> str:
    """One status for several tasks: processing while any runs, failed if any failed."""
    if not statuses:
        return "completed"
    if any(s in ACTIVE for s in statuses):
        return "processing"
    for s in ("failed", "cancelled"):
        if s in statuses:
            return s
    return "completed"


def _sign(state: GatewayState, key: str, base: str) -> str | None:
    return state.signer.sign(key, base) if key else None


def _accepted(ref: Any, run_id: str, drama_id: str, task_ids: list[str]) -> dict[str, Any]:
    return ok(
        {
            "task_id": ref.task_id,
            "status": ref.status,
            "id": run_id,
            "drama_id": drama_id,
            "task_ids": task_ids,
        }
    )


async def _workflow_drama(state: GatewayState, user_id: str, workflow_id: str) -> str:
    wf = await call(
        state.stubs.workflow.GetWorkflow,
        workflows_pb2.WorkflowRef(workflow_id=workflow_id),
        user_id=user_id,
    )
    if not wf.drama_id:
        raise AppError(
            "the workflow has no drama yet: try again once it is running",
            code=Code.EXISTS,
            field="workflow_id",
        )
    return str(wf.drama_id)


async def _drama(
    state: GatewayState, user_id: str, workflow_id: str | None, drama_id: str | None
) -> str | None:
    """The drama named by `workflow_id` or `drama_id` (404 for another user's), or None."""
    if workflow_id:
        found = await _workflow_drama(state, user_id, workflow_id)
        if drama_id and drama_id != found:
            raise ValidationFailed("drama_id is not the workflow's drama", field="drama_id")
        return found
    if drama_id:
        await call(
            state.stubs.script.GetDrama, script_pb2.GetDramaRequest(id=drama_id), user_id=user_id
        )
        return drama_id
    return None


def _same_drama(run: dict[str, Any], drama: str | None, field: str) -> str:
    if drama and drama != run["drama_id"]:
        raise ValidationFailed(f"{field} belongs to another drama", field=field)
    return str(run["drama_id"])


async def _run_task(state: GatewayState, user_id: str, run: dict[str, Any]) -> tasks_pb2.Task:
    return await _task(state, user_id, run["task_ids"][-1])


def _finished(task: tasks_pb2.Task, field: str) -> dict[str, Any]:
    if task.status != "completed":
        raise AppError(
            f"{field} is {STAGE_STATUS.get(task.status, task.status)}, not completed yet",
            code=Code.EXISTS,
            field=field,
        )
    return _result(task)


async def _script_ref(
    state: GatewayState, user_id: str, ref: str | None, drama: str | None
) -> tuple[str, str]:
    """(drama id, script id) for `script_id` (a wscript_ run or a script_ of the drama);
    without one the drama's newest script."""
    if ref and is_id(ref, "wscript"):
        run = await _runs(state).get(user_id, "script", ref)
        drama = _same_drama(run, drama, "script_id")
        result = _finished(await _run_task(state, user_id, run), "script_id")
        return drama, str(result.get("id") or "")
    if not drama:
        raise ValidationFailed(
            "give workflow_id, drama_id or a wscript_ script_id", field="script_id"
        )
    if ref:
        if not is_id(ref, "script"):
            raise NotFound(f"script {ref} not found", field="script_id")
        await call(
            state.stubs.script.GetScript,
            script_pb2.GetScriptRequest(drama_id=drama, id=ref),
            user_id=user_id,
        )
        return drama, ref
    listed = await call(
        state.stubs.script.ListScripts,
        script_pb2.ListScriptsRequest(drama_id=drama, page=1, per_page=1),
        user_id=user_id,
    )
    if not listed.scripts:
        raise ValidationFailed("the drama has no script yet", field="script_id")
    return drama, str(listed.scripts[0].id)


def storyboard_script(scenes: list[dict[str, Any]]) -> str:
    """The scenes as a shooting script: a heading per scene, its narration and its lines."""
    parts: list[str] = []
    for i, scene in enumerate(scenes, 1):
        head = " · ".join(str(x) for x in (scene.get("location"), scene.get("time")) if x)
        lines = [f"{scene.get('number') or i}. {head}".rstrip(". ").strip()]
        if scene.get("narration"):
            lines.append(str(scene["narration"]))
        for line in scene.get("dialogue") or []:
            if isinstance(line, dict) and line.get("text"):
                lines.append(f"{line.get('speaker') or '—'}: {line['text']}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


async def _read_body(request: Request, model: type[BaseModel], limit: int = 64 * 1024) -> Any:
    data = await read_json(request, limit)
    if not isinstance(data, dict):
        raise ValidationFailed("request body must be a JSON object", field="body")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


# --- script (§3) --------------------------------------------------------------------------


def _file_id_from(url: str) -> str:
    """The wfile_ id inside a file_url this gateway gave out (`/media/workflow-inputs/<owner>/
    <file id>/…`)."""
    try:
        parts = unquote(urlparse(url).path).split("/")
    except ValueError:  # not a URL at all (urlparse refuses a malformed netloc)
        parts = []
    if "media" in parts:
        rest = parts[parts.index("media") + 1 :]
        if len(rest) >= 3 and rest[0] == "workflow-inputs" and is_id(rest[2], "wfile"):
            return rest[2]
    raise NotFound(
        "input_file_url is not a file uploaded to /workflow/script/upload", field="input_file_url"
    )


@router.post(
    "/script",
    status_code=202,
    response_model=Envelope[StageAccepted],
    responses=TASK_LINKS,
    openapi_extra={BODY_LIMIT_KEY: MAX_BODY_BYTES},
    summary="Write a script (seed 001 §3.1) on a new drama, a drama or a workflow's drama",
)
async def create_script(body: ScriptStageIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """`input_type` prompt (an idea), novel or markdown (`input_content`), or file (the text
    of `input_file_id`/`input_file_url` from `POST /workflow/script/upload`). Without
    `workflow_id`/`drama_id` a drama named `name` (default: the first words) is created.
    202: `{task_id, status, id, drama_id}`; `GET /workflow/script/{id}` shows the script."""
    uid = user["_id"]
    runs = _runs(state)
    kind, content = body.input_type, body.input_content
    if kind == "file":
        file_id = body.input_file_id or (
            _file_id_from(body.input_file_url) if body.input_file_url else ""
        )
        if not file_id:
            raise ValidationFailed(
                "input_type file needs input_file_id or input_file_url", field="input_file_id"
            )
        upload = await runs.get(uid, "file", file_id)
        content = (await state.objects.get_bytes(upload["text_key"])).decode("utf-8")
        kind = (
            "markdown"
            if upload.get("file_kind") == "markdown"
            or any(line.lstrip().startswith("#") for line in content.splitlines()[:200])
            else "novel"
        )
    if not content.strip():
        raise ValidationFailed("input_content is empty", field="input_content")
    if len(content.encode("utf-8")) > MAX_TEXT_BYTES:
        raise AppError(
            "input_content is larger than 1 MB", code=Code.FILE_TOO_LARGE, field="input_content"
        )
    run_id = runs.new_id("script")
    drama = await _drama(state, uid, body.workflow_id, body.drama_id)
    if drama is None:
        name = (body.name or " ".join(content.split())[:40] or "script").strip()
        try:
            made = await call(
                state.stubs.script.CreateDrama,
                script_pb2.CreateDramaRequest(name=name, description=f"made by {run_id}"),
                user_id=uid,
            )
        except AppError as exc:
            if exc.code != Code.EXISTS:
                raise
            made = await call(
                state.stubs.script.CreateDrama,
                script_pb2.CreateDramaRequest(
                    name=f"{name[:80]} ({run_id[-8:]})", description=f"made by {run_id}"
                ),
                user_id=uid,
            )
        drama = str(made.id)
    opts = body.options
    rpc = script_pb2.GenerateScriptRequest(
        drama_id=drama,
        prompt=content if kind == "prompt" else "",
        input_type=kind,
        input_content="" if kind == "prompt" else content,
        style=opts.style,
        language=opts.language or "",
        title=body.name or "",
        scene_count=opts.scene_count or 0,
        ai_provider=opts.ai_provider or "",
        model=opts.model or "",
        budget=effective_budget(opts.budget, user, state.settings),
    )
    ref = await call(state.stubs.script.GenerateScript, rpc, user_id=uid, timeout=30.0)
    await runs.create(
        run_id,
        uid,
        "script",
        drama,
        workflow_id=body.workflow_id,
        task_ids=[ref.task_id],
        input_type=body.input_type,
    )
    return _accepted(ref, run_id, drama, [ref.task_id])


@router.get("/script/{wscript_id}", response_model=Envelope[ScriptStageOut])
async def get_script(wscript_id: ScriptRunId, state: State, user: CurrentUser) -> dict[str, Any]:
    """The script as written (seed 001 §3.2): `screenplay` (its text), `storyboard_script` (its
    scenes as a shooting script), `scenes`; the script's current version once completed."""
    uid = user["_id"]
    run = await _runs(state).get(uid, "script", wscript_id)
    task = await _run_task(state, uid, run)
    view: dict[str, Any] = {
        "id": run["_id"],
        "drama_id": run["drama_id"],
        "workflow_id": run.get("workflow_id"),
        "task_id": task.task_id,
        "script_id": None,
        "input_type": run.get("input_type", ""),
        "title": "",
        "screenplay": "",
        "storyboard_script": "",
        "scenes": [],
        "scene_count": 0,
        "status": STAGE_STATUS.get(task.status, task.status),
        "error": _error(task),
        "created_at": run["created_at"],
    }
    if task.status == "completed":
        script_id = str(_result(task).get("id") or "")
        try:
            msg = await call(
                state.stubs.script.GetScript,
                script_pb2.GetScriptRequest(drama_id=run["drama_id"], id=script_id),
                user_id=uid,
            )
        except NotFound:
            view["status"] = "deleted"
            return ok(view)
        scenes = objects_to_list(msg.scenes)
        view |= {
            "script_id": msg.id,
            "title": msg.title,
            "screenplay": msg.content,
            "storyboard_script": storyboard_script(scenes),
            "scenes": scenes,
            "scene_count": msg.scene_count,
        }
    return ok(view)


def _upload_schema() -> dict[str, Any]:
    schema = upload_schema("file", {"workflow_id": {"type": "string", "pattern": id_pattern("wf")}})
    schema[BODY_LIMIT_KEY] = MAX_DOCX_BYTES + 64 * 1024
    return schema


@router.post(
    "/script/upload",
    status_code=201,
    response_model=Envelope[UploadOut],
    openapi_extra=_upload_schema(),
    summary="Upload a story file (seed 001 §3.3): .txt, .md or .docx",
)
async def upload_script_file(request: Request, state: State, user: CurrentUser) -> Any:
    """Multipart `file` (.txt/.md UTF-8 ≤ 1 MB; .docx ≤ 10 MB, its paragraphs read as text,
    headings as Markdown headings) and an optional `workflow_id`. Anything else 415 (3002).
    201: `{file_id, file_url, file_size, content_type, text_length}`; pass `input_file_id` (or
    `input_file_url`) with `input_type: "file"` to `POST /workflow/script`."""
    uid = user["_id"]
    async with receive_form(request, file_field="file", limit=MAX_DOCX_BYTES) as form:
        if form.file is None:
            raise ValidationFailed("file is required", field="file")
        workflow_id = (form.fields.get("workflow_id") or "").strip() or None
        if workflow_id:
            if not is_id(workflow_id, "wf"):
                raise NotFound(f"workflow {workflow_id} not found", field="workflow_id")
            await _workflow_drama(state, uid, workflow_id)
        raw = await asyncio.to_thread(form.file.path.read_bytes)
        filename = form.file.filename or ""
        kind, text = await asyncio.to_thread(read_story_file, filename, raw, "")
    runs = _runs(state)
    file_id = runs.new_id("file")
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[-80:] or "upload"
    prefix = f"workflow-inputs/{uid}/{file_id}/"
    original_key, text_key = prefix + safe, prefix + "text.txt"
    await state.objects.put_bytes(original_key, raw, CONTENT_TYPES[kind])
    await state.objects.put_bytes(text_key, text.encode("utf-8"), "text/plain; charset=utf-8")
    await runs.create(
        file_id,
        uid,
        "file",
        "",
        workflow_id=workflow_id,
        file_kind=kind,
        original_key=original_key,
        text_key=text_key,
        file_name=filename[:255],
    )
    body = ok(
        {
            "file_id": file_id,
            "file_url": state.signer.sign(original_key, base_url(request)),
            "file_name": filename[:255],
            "file_size": len(raw),
            "content_type": CONTENT_TYPES[kind],
            "text_length": len(text),
            "workflow_id": workflow_id,
        }
    )
    return JSONResponse(body, status_code=201)


# --- assets (§4) --------------------------------------------------------------------------


async def _script_items(
    state: GatewayState, uid: str, drama: str, script_id: str
) -> list[dict[str, str]]:
    """The script's cast (its metadata's characters), props and places (scene locations)."""
    msg = await call(
        state.stubs.script.GetScript,
        script_pb2.GetScriptRequest(drama_id=drama, id=script_id),
        user_id=uid,
    )
    metadata = object_to_dict(msg.metadata)
    items: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, name: Any, description: Any) -> None:
        clean = str(name or "").strip()[:100]
        if clean and (kind, clean.casefold()) not in seen and len(items) < 20:
            seen.add((kind, clean.casefold()))
            items.append(
                {"kind": kind, "name": clean, "description": str(description or "")[:2000]}
            )

    for person in metadata.get("characters") or []:
        if isinstance(person, dict):
            add("character", person.get("name"), person.get("description"))
    for prop in metadata.get("props") or []:
        if isinstance(prop, dict):
            add("prop", prop.get("name"), prop.get("description"))
        else:
            add("prop", prop, "")
    for scene in objects_to_list(msg.scenes):
        if isinstance(scene, dict):
            add("scene", scene.get("location"), scene.get("time"))
    return items


@router.post(
    "/assets",
    status_code=202,
    response_model=Envelope[StageAccepted],
    responses=TASK_LINKS,
    summary="Design the characters, props and scenes (seed 001 §4.1)",
)
async def create_assets(body: AssetsStageIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """A design image per item through `options.image_provider` (GET /providers; default the
    offline renderer): `items`, or the script's characters, props and scene locations."""
    uid = user["_id"]
    drama = await _drama(state, uid, body.workflow_id, body.drama_id)
    if body.items:
        if drama is None:
            if body.script_id and is_id(body.script_id, "wscript"):
                drama = (await _runs(state).get(uid, "script", body.script_id))["drama_id"]
            else:
                raise ValidationFailed("give workflow_id or drama_id", field="drama_id")
        items = [i.model_dump() for i in body.items]
    else:
        drama, script_id = await _script_ref(state, uid, body.script_id, drama)
        items = await _script_items(state, uid, drama, script_id)
        if not items:
            raise ValidationFailed(
                "the script names no characters or places: give items", field="items"
            )
    opts = body.options
    ref = await call(
        state.stubs.assets.GenerateAssets,
        assets_pb2.GenerateAssetsRequest(
            drama_id=drama,
            items=[assets_pb2.DesignItem(**i) for i in items],
            style=opts.style,
            seed=opts.seed,
            image_provider=opts.image_provider,
            image_model=opts.image_model,
        ),
        user_id=uid,
    )
    run_id = _runs(state).new_id("assets")
    await _runs(state).create(
        run_id,
        uid,
        "assets",
        drama,
        workflow_id=body.workflow_id,
        task_ids=[ref.task_id],
        items=items,
    )
    return _accepted(ref, run_id, drama, [ref.task_id])


async def _references(state: GatewayState, uid: str, drama: str) -> dict[str, str]:
    """design asset id → its newest reference asset id."""
    out: dict[str, str] = {}
    for doc in await _runs(state).find(uid, kind="ref", drama_id=drama):
        out.setdefault(doc["asset_id"], doc["reference_asset_id"])
    return out


def _asset_view(
    state: GatewayState, a: assets_pb2.Asset, ref_url: str | None, base: str
) -> dict[str, Any]:
    return {
        "id": a.id,
        "drama_id": a.drama_id,
        "type": a.kind,
        "name": a.name,
        "description": a.description,
        "prompt": a.prompt,
        "design_image_url": _sign(state, a.key, base),
        "thumbnail_url": _sign(state, a.thumbnail_key, base),
        "reference_image_url": ref_url,
        "source": a.source,
        "status": a.status or "completed",
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    }


@router.get("/assets", response_model=Envelope[AssetListOut])
async def list_stage_assets(
    request: Request,
    state: State,
    user: CurrentUser,
    workflow_id: Annotated[str | None, Query(pattern=id_pattern("wf"), max_length=100)] = None,
    drama_id: Annotated[str | None, Query(pattern=id_pattern("drama"), max_length=100)] = None,
    type: Annotated[Literal["character", "prop", "scene"] | None, Query()] = None,
) -> dict[str, Any]:
    """The design assets of the workflow's (or the drama's) drama (seed 001 §4.2), `type`
    filtering character/prop/scene; uploaded reference images show as `reference_image_url`."""
    uid = user["_id"]
    drama = await _drama(state, uid, workflow_id, drama_id)
    if drama is None:
        raise ValidationFailed("give workflow_id or drama_id", field="workflow_id")
    refs = await _references(state, uid, drama)
    ref_ids = set(refs.values())
    kinds = [type] if type else ["character", "prop", "scene"]
    found: list[assets_pb2.Asset] = []
    for kind in kinds:
        page = 1
        while True:
            listed = await call(
                state.stubs.assets.ListAssets,
                assets_pb2.ListAssetsRequest(drama_id=drama, page=page, per_page=PAGE, type=kind),
                user_id=uid,
            )
            found.extend(a for a in listed.assets if a.id not in ref_ids)
            if len(listed.assets) < PAGE or page * PAGE >= listed.total:
                break
            page += 1
    base = base_url(request)
    keys: dict[str, str] = {}
    if refs:
        for asset_id, ref_id in refs.items():
            try:
                ref = await call(
                    state.stubs.assets.GetAsset,
                    assets_pb2.AssetRef(drama_id=drama, asset_id=ref_id),
                    user_id=uid,
                )
                keys[asset_id] = ref.key
            except NotFound:
                continue
    views = [_asset_view(state, a, _sign(state, keys.get(a.id, ""), base), base) for a in found]
    return ok({"assets": views, "total": len(views)})


async def _find_asset(state: GatewayState, uid: str, asset_id: str) -> assets_pb2.Asset:
    """A design asset of one of the caller's stage-run or workflow dramas; 404 otherwise."""
    dramas = await _runs(state).dramas(uid)
    listed = await call(
        state.stubs.workflow.ListWorkflows,
        workflows_pb2.ListWorkflowsRequest(page=1, page_size=100),
        user_id=uid,
    )
    for wf in listed.workflows:
        if wf.drama_id and wf.drama_id not in dramas:
            dramas.append(wf.drama_id)
    for drama in dramas:
        try:
            asset = await call(
                state.stubs.assets.GetAsset,
                assets_pb2.AssetRef(drama_id=drama, asset_id=asset_id),
                user_id=uid,
            )
        except NotFound:
            continue
        if asset.kind:
            found: assets_pb2.Asset = asset
            return found
    raise NotFound(f"asset {asset_id} not found", field="asset_id")


@router.post(
    "/assets/{asset_id}/upload",
    status_code=201,
    response_model=Envelope[ReferenceOut],
    openapi_extra=upload_schema("file", {}),
    summary="Upload a reference image for a design asset (seed 001 §4.3)",
)
async def upload_reference(
    asset_id: AssetPathId, request: Request, state: State, user: CurrentUser
) -> Any:
    """Multipart `file` (PNG/JPEG/WebP/GIF by content; 415 otherwise) filed as an asset of the
    design's kind and shown as its `reference_image_url`."""
    uid = user["_id"]
    design = await _find_asset(state, uid, asset_id)
    async with staged_upload(
        request,
        state.objects,
        user_id=uid,
        file_field="file",
        limit=state.settings.max_upload_bytes,
    ) as upload:
        ref = await call(
            state.stubs.assets.UploadAsset,
            assets_pb2.UploadAssetRequest(
                drama_id=design.drama_id,
                staging_key=upload.key,
                filename=upload.filename,
                type=design.kind,
            ),
            user_id=uid,
            timeout=max(state.settings.grpc_deadline_s, 60.0),
        )
    runs = _runs(state)
    await runs.create(
        runs.new_id("ref"),
        uid,
        "ref",
        design.drama_id,
        asset_id=asset_id,
        reference_asset_id=ref.id,
    )
    body = ok(
        {
            "asset_id": asset_id,
            "reference_asset_id": ref.id,
            "reference_image_url": state.signer.sign(ref.key, base_url(request)),
            "status": "uploaded",
        }
    )
    return JSONResponse(body, status_code=201)


@router.post(
    "/assets/{asset_id}/regenerate",
    status_code=202,
    response_model=Envelope[AssetRegenerated],
    responses=TASK_LINKS,
    summary="Redraw a design asset in place (seed 001 §4.4)",
)
async def regenerate_asset(
    asset_id: AssetPathId, state: State, user: CurrentUser, body: RegenerateAssetIn | None = None
) -> dict[str, Any]:
    """A new design image for the asset (same id), from `prompt` (default: its description)
    through `options.image_provider`."""
    uid = user["_id"]
    body = body or RegenerateAssetIn()
    design = await _find_asset(state, uid, asset_id)
    if design.source != "generated":
        raise ValidationFailed("only a generated design can be redrawn", field="asset_id")
    opts = body.options
    ref = await call(
        state.stubs.assets.GenerateAssets,
        assets_pb2.GenerateAssetsRequest(
            drama_id=design.drama_id,
            items=[
                assets_pb2.DesignItem(
                    kind=design.kind,
                    name=design.name,
                    description=body.prompt or design.description,
                )
            ],
            style=opts.style,
            seed=opts.seed,
            image_provider=opts.image_provider,
            image_model=opts.image_model,
            asset_id=asset_id,
            tags=list(design.tags),
        ),
        user_id=uid,
    )
    return ok({"asset_id": asset_id, "task_id": ref.task_id, "status": "processing"})


# --- storyboard (§5) ----------------------------------------------------------------------


@router.post(
    "/storyboard",
    status_code=202,
    response_model=Envelope[StageAccepted],
    responses=TASK_LINKS,
    summary="Plan the shots and draw their frames, and one grid image (seed 001 §5.1)",
)
async def create_storyboard(body: BoardStageIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """The studio's `storyboards/generate` with frames (`options.image_provider`, or seed 001's
    `ai_provider`, draws them). When its task completes, `GET /workflow/storyboard/{id}` lays
    the first columns×rows frames out on one `grid_layout` image and, with `auto_crop`, cuts
    each cell back out as its shot's `cropped_image_url`."""
    uid = user["_id"]
    opts = body.options
    layout = parse_layout(opts.grid_layout)
    drama = await _drama(state, uid, body.workflow_id, body.drama_id)
    drama, script_id = await _script_ref(state, uid, body.script_id, drama)
    ref = await call(
        state.stubs.storyboards.GenerateStoryboards,
        storyboards_pb2.GenerateStoryboardsRequest(
            drama_id=drama,
            script_id=script_id,
            shot_type=opts.shot_type,
            image_style=opts.image_style,
            count_per_scene=opts.count_per_scene,
            aspect_ratio=opts.aspect_ratio,
            seed=opts.seed,
            image_provider=opts.image_provider or opts.ai_provider,
            image_model=opts.image_model,
        ),
        user_id=uid,
    )
    run_id = _runs(state).new_id("storyboard")
    await _runs(state).create(
        run_id,
        uid,
        "storyboard",
        drama,
        workflow_id=body.workflow_id,
        task_ids=[ref.task_id],
        grid_layout=f"{layout[0]}x{layout[1]}",
        auto_crop=opts.auto_crop,
        shot_ids=[],
        edited=[],
        grid_key="",
        grid_source="",
        crop_keys={},
    )
    return _accepted(ref, run_id, drama, [ref.task_id])


async def _board_shots(
    state: GatewayState, uid: str, run: dict[str, Any]
) -> tuple[list[storyboards_pb2.Storyboard], list[str]]:
    """(the run's shots as they are now, in play order; the statuses of its tasks). The shot
    ids come from the generate task's result, read once."""
    statuses: list[str] = []
    first = await _task(state, uid, run["task_ids"][0])
    statuses.append(first.status)
    shot_ids = list(run.get("shot_ids") or [])
    if not shot_ids and first.status == "completed":
        shot_ids = [b["id"] for b in _result(first).get("storyboards") or []]
        await _runs(state).update(run["_id"], shot_ids=shot_ids)
        run["shot_ids"] = shot_ids
    for task_id in run["task_ids"][1:]:
        statuses.append((await _task(state, uid, task_id)).status)
    if not shot_ids:
        return [], statuses
    wanted = set(shot_ids)
    shots: list[storyboards_pb2.Storyboard] = []
    page = 1
    while True:
        listed = await call(
            state.stubs.storyboards.ListStoryboards,
            storyboards_pb2.ListStoryboardsRequest(
                drama_id=run["drama_id"], page=page, per_page=PAGE
            ),
            user_id=uid,
        )
        shots.extend(b for b in listed.storyboards if b.id in wanted)
        if len(listed.storyboards) < PAGE or page * PAGE >= listed.total:
            return shots, statuses
        page += 1


async def _ensure_grid(
    state: GatewayState, run: dict[str, Any], shots: list[storyboards_pb2.Storyboard]
) -> dict[str, Any]:
    """Compose the grid (and crops) from the shots' current frames unless the stored one was
    made from exactly these frames. Keys derive from the frames, so two readers composing at
    once write the same objects."""
    columns, rows = parse_layout(run["grid_layout"])
    placed = shots[: columns * rows]
    if not placed or any(not s.image_key for s in placed):
        return run
    source = hashlib.sha256(
        "\n".join(
            [run["grid_layout"], str(run["auto_crop"])] + [s.image_key for s in placed]
        ).encode()
    ).hexdigest()[:16]
    if run.get("grid_source") == source:
        return run
    frames = [await state.objects.get_bytes(s.image_key) for s in placed]
    grid, _cell = await asyncio.to_thread(compose_grid, frames, (columns, rows))
    prefix = f"dramas/{run['drama_id']}/workflow/{run['_id']}/{source}/"
    await state.objects.put_bytes(prefix + "grid.png", grid, "image/png")
    crop_keys: dict[str, str] = {}
    if run["auto_crop"]:
        crops = await asyncio.to_thread(crop_cells, grid, (columns, rows), len(placed))
        for shot, crop in zip(placed, crops, strict=True):
            key = f"{prefix}crop_{shot.id}.png"
            await state.objects.put_bytes(key, crop, "image/png")
            crop_keys[shot.id] = key
    log.info(
        "workflow_stages.grid", run_id=run["_id"], shots=len(placed), layout=run["grid_layout"]
    )
    return await _runs(state).update(
        run["_id"],
        grid_key=prefix + "grid.png",
        grid_source=source,
        grid_shot_ids=[s.id for s in placed],
        crop_keys=crop_keys,
    )


def _shot_view(
    state: GatewayState, s: storyboards_pb2.Storyboard, crop_key: str, base: str
) -> dict[str, Any]:
    return {
        "id": s.id,
        "sequence": s.position,
        "prompt": s.prompt,
        "description": s.description,
        "shot_type": s.shot_type,
        "image_url": _sign(state, s.image_key, base),
        "cropped_image_url": _sign(state, crop_key, base),
        "image_status": s.image_status,
        "dialogue": "\n".join(d.text for d in s.dialogue if d.text),
        "narration": s.narration,
        "duration": s.duration,
    }


@router.get("/storyboard/{wboard_id}", response_model=Envelope[BoardOut])
async def get_storyboard(
    wboard_id: BoardRunId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """The shots (seed 001 §5.2) with `image_url`, `cropped_image_url` (auto_crop: the shot's
    cell of the grid), and `grid_image_url`; `status` completed once the frames and the grid
    exist, processing while a task runs."""
    uid = user["_id"]
    run = await _runs(state).get(uid, "storyboard", wboard_id)
    shots, statuses = await _board_shots(state, uid, run)
    status = _overall(statuses)
    if status == "completed" and shots:
        run = await _ensure_grid(state, run, shots)
    base = base_url(request)
    crops: dict[str, str] = run.get("crop_keys") or {}
    first_task = run["task_ids"][0]
    return ok(
        {
            "id": run["_id"],
            "drama_id": run["drama_id"],
            "workflow_id": run.get("workflow_id"),
            "task_id": run["task_ids"][-1] if run["task_ids"] else first_task,
            "task_ids": run["task_ids"],
            "shots": [_shot_view(state, s, crops.get(s.id, ""), base) for s in shots],
            "grid_layout": run["grid_layout"],
            "grid_image_url": _sign(state, run.get("grid_key", ""), base),
            "grid_shot_ids": run.get("grid_shot_ids") or [],
            "auto_crop": run["auto_crop"],
            "status": status,
            "created_at": run["created_at"],
        }
    )


@router.put(
    "/storyboard/{wboard_id}/shots/{shot_id}",
    response_model=Envelope[ShotEdited],
    summary="Edit one shot's prompt (seed 001 §5.3)",
)
async def edit_shot(
    wboard_id: BoardRunId, shot_id: ShotPathId, body: ShotEditIn, state: State, user: CurrentUser
) -> dict[str, Any]:
    """`prompt` replaces the shot's prompt; `replacements` `character`, `scene`, `action` are
    added to it, `shot_type` sets the shot type. The shot then waits for
    `POST …/regenerate` (`status: pending_regeneration`)."""
    uid = user["_id"]
    run = await _runs(state).get(uid, "storyboard", wboard_id)
    await _board_shots(state, uid, run)
    if shot_id not in (run.get("shot_ids") or []):
        raise NotFound(f"shot {shot_id} not found", field="shot_id")
    current = await call(
        state.stubs.storyboards.GetStoryboard,
        storyboards_pb2.StoryboardRef(drama_id=run["drama_id"], storyboard_id=shot_id),
        user_id=uid,
    )
    r = body.replacements
    prompt = body.prompt if body.prompt is not None else current.prompt
    extra = [
        f"{label}: {text.strip()}"
        for label, text in (("character", r.character), ("scene", r.scene), ("action", r.action))
        if text.strip()
    ]
    prompt = ", ".join(p for p in [prompt.strip(), *extra] if p)[:2000]
    if not prompt:
        raise ValidationFailed("prompt is empty", field="prompt")
    update = storyboards_pb2.UpdateStoryboardRequest(
        drama_id=run["drama_id"], storyboard_id=shot_id, prompt=prompt
    )
    if r.shot_type:
        update.shot_type = {
            "close-up": "close_up",
            "medium-close-up": "medium_close_up",
            "extreme-wide": "extreme_wide",
        }.get(r.shot_type, r.shot_type)
    msg = await call(state.stubs.storyboards.UpdateStoryboard, update, user_id=uid)
    edited = [*dict.fromkeys([*(run.get("edited") or []), shot_id])]
    await _runs(state).update(run["_id"], edited=edited)
    return ok(
        {
            "shot_id": shot_id,
            "prompt": msg.prompt,
            "shot_type": msg.shot_type,
            "status": "pending_regeneration",
        }
    )


@router.post(
    "/storyboard/{wboard_id}/regenerate",
    status_code=202,
    response_model=Envelope[StageAccepted],
    responses=TASK_LINKS,
    summary="Redraw shots' frames (seed 001 §5.4); the grid follows",
)
async def regenerate_storyboard(
    wboard_id: BoardRunId, state: State, user: CurrentUser, body: BoardRegenerateIn | None = None
) -> dict[str, Any]:
    """A `regenerate-image` task per shot in `shot_ids` (default: the shots edited since the
    last regenerate, else all) from its stored prompt; `task_id` is the first, `task_ids` all.
    The next `GET` composes the grid (and crops) again from the new frames."""
    uid = user["_id"]
    body = body or BoardRegenerateIn()
    run = await _runs(state).get(uid, "storyboard", wboard_id)
    shots, statuses = await _board_shots(state, uid, run)
    if statuses[0] != "completed":
        raise AppError("the storyboard is not completed yet", code=Code.EXISTS, field="id")
    known = [s.id for s in shots]
    wanted = body.shot_ids or [s for s in (run.get("edited") or []) if s in known] or known
    for shot_id in wanted:
        if shot_id not in known:
            raise NotFound(f"shot {shot_id} not found", field="shot_ids")
    opts = body.options
    task_ids: list[str] = []
    for shot_id in dict.fromkeys(wanted):
        ref = await call(
            state.stubs.storyboards.RegenerateImage,
            storyboards_pb2.RegenerateImageRequest(
                drama_id=run["drama_id"],
                storyboard_id=shot_id,
                seed=opts.seed,
                image_provider=opts.image_provider or opts.ai_provider,
                image_model=opts.image_model,
            ),
            user_id=uid,
        )
        task_ids.append(ref.task_id)
    await _runs(state).update(run["_id"], task_ids=[*run["task_ids"], *task_ids], edited=[])
    return ok(
        {
            "task_id": task_ids[0],
            "status": "pending",
            "id": run["_id"],
            "drama_id": run["drama_id"],
            "task_ids": task_ids,
        }
    )


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
        if (await _task(state, uid, task_id)).status in ACTIVE:
            return False
    await _start_motion(state, uid, run)
    await _runs(state).update(run["_id"], motion_started=True)
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


@router.post(
    "/animatic",
    status_code=202,
    response_model=Envelope[StageAccepted],
    responses=TASK_LINKS,
    summary="Speak every shot, then preview its motion (seed 001 §6.1)",
)
async def create_animatic(body: AnimaticStageIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """A `GenerateShotAudio` task per shot with narration or lines (`audio_provider`, `voice`),
    then one `GenerateVideos` task for the motion preview (`video_provider`; its id is
    `motion_task_id`, started when the audio is done). `duration_control{min, max}` bounds each
    shot's planned length first (speech longer than `max` still lengthens its shot).
    `task_id` is the first task started, `task_ids` every one."""
    uid = user["_id"]
    board = await _runs(state).get(uid, "storyboard", body.storyboard_id)
    drama = _same_drama(board, await _drama(state, uid, body.workflow_id, None), "storyboard_id")
    shots, statuses = await _board_shots(state, uid, board)
    if _overall(statuses) != "completed" or not shots:
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
    runs = _runs(state)
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
    run = await runs.create(
        run_id,
        uid,
        "animatic",
        drama,
        workflow_id=body.workflow_id,
        storyboard_id=board["_id"],
        shot_ids=[s.id for s in shots],
        audio_task_ids=audio_ids,
        motion_task_id=f"task_{tail}_motion",
        motion_started=False,
        options=opts.model_dump(mode="json", exclude={"duration_control"}),
        task_ids=[*audio_ids, f"task_{tail}_motion"],
    )
    if not audio_ids:
        await _advance_animatic(state, uid, run)
    else:
        job = asyncio.create_task(_animatic_later(state, uid, run))
        _background.add(job)
        job.add_done_callback(_background.discard)
    first = audio_ids[0] if audio_ids else run["motion_task_id"]
    return ok(
        {
            "task_id": first,
            "status": "pending",
            "id": run_id,
            "drama_id": drama,
            "task_ids": run["task_ids"],
        }
    )


def _clips(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["storyboard_id"]: v for v in result.get("videos") or [] if v.get("storyboard_id")}


@router.get("/animatic/{wanim_id}", response_model=Envelope[AnimaticOut])
async def get_animatic(
    wanim_id: AnimaticRunId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Per shot (seed 001 §6.2): its preview clip (`video_url`, voice included), its speech
    (`audio_url`), `start_time` and `duration` on the animatic's timeline; `total_duration`."""
    uid = user["_id"]
    run = await _runs(state).get(uid, "animatic", wanim_id)
    try:
        await _advance_animatic(state, uid, run)
    except AppError as exc:
        log.warning("workflow_stages.animatic_start", run_id=run["_id"], error=exc.message[:300])
    statuses = [(await _task(state, uid, t)).status for t in run["audio_task_ids"]]
    clips: dict[str, dict[str, Any]] = {}
    if run.get("motion_started"):
        motion = await _task(state, uid, run["motion_task_id"])
        statuses.append(motion.status)
        clips = _clips(_result(motion)) if motion.status == "completed" else {}
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
                "video_url": _sign(state, str(clip.get("key") or ""), base),
                "audio_url": _sign(state, s.audio_key, base),
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
            "status": _overall(statuses),
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
    run = await _runs(state).get(uid, "animatic", wanim_id)
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
                "audio_url": _sign(state, msg.audio_key, base_url(request)),
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


# --- video (§7) ---------------------------------------------------------------------------


@router.post(
    "/video",
    status_code=202,
    response_model=Envelope[StageAccepted],
    responses=TASK_LINKS,
    summary="One clip per shot (seed 001 §7.1)",
)
async def create_video(body: VideoStageIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """`GenerateVideos` over the animatic's (or the storyboard's) shots with their audio;
    `options.provider` a video model (GET /providers; default camera motion over the frame),
    `quality` low/medium/high = 480p/720p/1080p unless `resolution` names one."""
    uid = user["_id"]
    if body.animatic_id:
        source = await _runs(state).get(uid, "animatic", body.animatic_id)
    elif body.storyboard_id:
        source = await _runs(state).get(uid, "storyboard", body.storyboard_id)
        await _board_shots(state, uid, source)
    else:
        raise ValidationFailed("give animatic_id or storyboard_id", field="animatic_id")
    drama = _same_drama(source, await _drama(state, uid, body.workflow_id, None), "animatic_id")
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
    run_id = _runs(state).new_id("video")
    await _runs(state).create(
        run_id,
        uid,
        "video",
        drama,
        workflow_id=body.workflow_id,
        task_ids=[ref.task_id],
        shot_ids=shot_ids,
    )
    return _accepted(ref, run_id, drama, [ref.task_id])


def _segments(
    state: GatewayState, run: dict[str, Any], task: tasks_pb2.Task, base: str
) -> list[dict[str, Any]]:
    clips = _clips(_result(task)) if task.status == "completed" else {}
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
                    "video_url": _sign(state, clip.get("key", ""), base),
                    "thumbnail_url": _sign(state, clip.get("thumbnail_key", ""), base),
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
    uid = user["_id"]
    run = await _runs(state).get(uid, "video", wvideo_id)
    task = await _run_task(state, uid, run)
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
    uid = user["_id"]
    run = await _runs(state).get(uid, "video", wvideo_id)
    task = await _run_task(state, uid, run)
    return ok(
        {
            "id": run["_id"],
            "drama_id": run["drama_id"],
            "task_id": task.task_id,
            "segments": _segments(state, run, task, base_url(request)),
            "status": STAGE_STATUS.get(task.status, task.status),
            "created_at": run["created_at"],
        }
    )


# --- edit (§8) ----------------------------------------------------------------------------


async def _render(state: GatewayState, uid: str, run: dict[str, Any], music: dict[str, Any]) -> str:
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
            drama_id=run["drama_id"],
            storyboard_ids=run["shot_ids"],
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
    status_code=202,
    response_model=Envelope[StageAccepted],
    responses=TASK_LINKS,
    summary="The final cut: voices, subtitles and music (seed 001 §8.1)",
)
async def create_edit(body: EditStageIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """`RenderFinalCut` over the video run's shots: subtitles burned in (`subtitles`), the
    built-in music bed with `add_background_music`. `add_audio_effects` and `music_style` are
    recorded; no sound effects are added (`audio_effects` stays empty)."""
    uid = user["_id"]
    video = await _runs(state).get(uid, "video", body.video_id)
    drama = _same_drama(video, await _drama(state, uid, body.workflow_id, None), "video_id")
    run_id = _runs(state).new_id("edit")
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
    await _runs(state).create(
        run_id,
        uid,
        "edit",
        drama,
        workflow_id=body.workflow_id,
        task_ids=[task_id],
        shot_ids=video["shot_ids"],
        video_id=video["_id"],
        options=run["options"],
        music=music,
    )
    return ok(
        {
            "task_id": task_id,
            "status": "pending",
            "id": run_id,
            "drama_id": drama,
            "task_ids": [task_id],
        }
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
    run = await _runs(state).get(uid, "edit", wedit_id)
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
    await _runs(state).update(run["_id"], task_ids=[*run["task_ids"], task_id], music=music)
    return ok({"edit_id": run["_id"], "task_id": task_id, "status": "processing"})


@router.get("/edit/{wedit_id}", response_model=Envelope[EditOut])
async def get_edit(
    wedit_id: EditRunId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Seed 001 §8.3: the newest render's `final_video_url` (subtitles burned in),
    `subtitle_url` (SRT), `thumbnail_url`, `duration`, and the music it used."""
    uid = user["_id"]
    run = await _runs(state).get(uid, "edit", wedit_id)
    task = await _run_task(state, uid, run)
    video = (_result(task).get("video") or {}) if task.status == "completed" else {}
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
            music_url = _sign(state, asset.key, base)
        except NotFound:
            music_url = None
    return ok(
        {
            "id": run["_id"],
            "drama_id": run["drama_id"],
            "task_id": task.task_id,
            "task_ids": run["task_ids"],
            "final_video_url": _sign(state, str(video.get("key") or ""), base),
            "thumbnail_url": _sign(state, str(video.get("thumbnail_key") or ""), base),
            "subtitle_url": _sign(state, str(video.get("subtitle_key") or ""), base),
            "audio_effects": [],
            "background_music_url": music_url,
            "music": music,
            "status": STAGE_STATUS.get(task.status, task.status),
            "duration": float(video.get("duration") or 0.0),
            "created_at": run["created_at"],
        }
    )
