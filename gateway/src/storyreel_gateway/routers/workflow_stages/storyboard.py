"""Seed 001 §5, the storyboard stage: the shots planned and their frames drawn
(`POST /workflow/storyboard`), read with one grid image of the first frames and, with
`auto_crop`, each frame cut back out of it; a shot's prompt edited, and frames redrawn."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.ids import id_pattern
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import storyboards_pb2
from storyreel_core.rpc.clients import call
from storyreel_gateway.deps import CurrentUser, State, base_url
from storyreel_gateway.envelope import Envelope, ok
from storyreel_gateway.fields import ImageProvider
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.routers.storyboards import GenerateOptions
from storyreel_gateway.routers.workflow_stages.runs import (
    PAGE,
    STARTS_A_RUN,
    BoardRunId,
    DramaRef,
    ShotPathId,
    WorkflowRef,
    accept_run,
    accepted,
    get_task,
    named_drama,
    overall_status,
    script_ref,
    sign,
    stage_runs,
    task_result,
)
from storyreel_gateway.state import GatewayState
from storyreel_gateway.storyboard_grid import compose_grid, crop_cells, parse_layout

router = APIRouter(route_class=CheckedRoute)
log = get_logger("storyreel.gateway.workflow_stages")


class BoardOptionsIn(GenerateOptions):
    """The studio's storyboard options, and seed 001's grid of frames and its other name for
    the image provider; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    grid_layout: str = Field(default="3x3", max_length=5, examples=["3x3"])
    auto_crop: bool = False
    ai_provider: ImageProvider = ""
    image_provider: Annotated[ImageProvider, Field(description="wins over ai_provider")] = ""


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


# --- storyboard (§5) ----------------------------------------------------------------------


@router.post(
    "/storyboard",
    **STARTS_A_RUN,
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
    drama = await named_drama(state, uid, body.workflow_id, body.drama_id)
    drama, script_id = await script_ref(state, uid, body.script_id, drama)
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
    return await accept_run(
        state,
        uid,
        "storyboard",
        drama,
        [ref.task_id],
        status=ref.status,
        workflow_id=body.workflow_id,
        grid_layout=f"{layout[0]}x{layout[1]}",
        auto_crop=opts.auto_crop,
        shot_ids=[],
        edited=[],
        grid_key="",
        grid_source="",
        crop_keys={},
    )


async def board_shots(
    state: GatewayState, uid: str, run: dict[str, Any]
) -> tuple[list[storyboards_pb2.Storyboard], list[str]]:
    """(a storyboard run's shots as they are now, in play order; the statuses of its tasks).
    The shot ids come from the generate task's result, read once."""
    statuses: list[str] = []
    first = await get_task(state, uid, run["task_ids"][0])
    statuses.append(first.status)
    shot_ids = list(run.get("shot_ids") or [])
    if not shot_ids and first.status == "completed":
        shot_ids = [b["id"] for b in task_result(first).get("storyboards") or []]
        await stage_runs(state).update(run["_id"], shot_ids=shot_ids)
        run["shot_ids"] = shot_ids
    for task_id in run["task_ids"][1:]:
        statuses.append((await get_task(state, uid, task_id)).status)
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
    return await stage_runs(state).update(
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
        "image_url": sign(state, s.image_key, base),
        "cropped_image_url": sign(state, crop_key, base),
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
    run = await stage_runs(state).get(uid, "storyboard", wboard_id)
    shots, statuses = await board_shots(state, uid, run)
    status = overall_status(statuses)
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
            "grid_image_url": sign(state, run.get("grid_key", ""), base),
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
    run = await stage_runs(state).get(uid, "storyboard", wboard_id)
    await board_shots(state, uid, run)
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
    await stage_runs(state).update(run["_id"], edited=edited)
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
    **STARTS_A_RUN,
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
    run = await stage_runs(state).get(uid, "storyboard", wboard_id)
    shots, statuses = await board_shots(state, uid, run)
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
    await stage_runs(state).update(run["_id"], task_ids=[*run["task_ids"], *task_ids], edited=[])
    return accepted(run["_id"], run["drama_id"], task_ids, "pending")
