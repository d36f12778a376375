"""`/screenplays` (seed 004): screenplay drafts, reviewed and edited, then confirmed into a
drama ready for the studio's render. See `drafts.screenplays` for how a draft moves on."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.ids import MAX_ID_LENGTH, id_pattern
from storyreel_core.proto.storyreel.v1 import storyboards_pb2
from storyreel_core.rpc.clients import call
from storyreel_gateway.deps import CurrentUser, State, base_url
from storyreel_gateway.drafts.bodies import DRAFT_BODY, ConfirmIn, DraftIn, DraftUpdate
from storyreel_gateway.drafts.documents import DraftDocuments
from storyreel_gateway.drafts.screenplays import Screenplays
from storyreel_gateway.drafts.starts import start_draft
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.json_body import BODY_LIMIT_KEY, CheckedRoute
from storyreel_gateway.state import GatewayState

router = APIRouter(
    route_class=CheckedRoute, prefix="/screenplays", tags=["screenplays"], responses=ERROR_RESPONSES
)

ScreenplayId = Annotated[
    str,
    Path(
        pattern=id_pattern("screenplay"),
        max_length=MAX_ID_LENGTH,
        description="`screenplay_` then lowercase letters, digits and `_`",
    ),
]


class SceneOut(BaseModel):
    scene_id: int
    location: str
    time: str
    narration: str
    image_prompt: str
    video_prompt: str
    status: str
    image_url: str | None = None


class CharacterSheetOut(BaseModel):
    id: str
    name: str
    gender: str
    description: str
    combined_view_url: str | None


class ScreenplayOut(BaseModel):
    id: str
    task_id: str
    title: str
    status: str
    prompt: str
    scenes: list[SceneOut]
    character_sheets: list[CharacterSheetOut]
    conversation_id: str | None = None
    drama_id: str | None = None
    script_id: str | None = None
    storyboard_task_id: str | None = None
    character_ids: list[str] = []
    error: dict[str, Any] | None = None
    version: int
    created_at: str
    updated_at: str


def screenplay_view(
    state: GatewayState, doc: dict[str, Any], base: str, frames: dict[int, str] | None = None
) -> dict[str, Any]:
    """The draft in our names; `frames` (scene number → the key of its first storyboard's
    frame, once confirmed) gives each scene its `image_url`."""
    frames = frames or {}
    return {
        "id": doc["_id"],
        "task_id": doc["screenplay_task_id"],
        "title": doc.get("title", ""),
        "status": doc["status"],
        "prompt": doc.get("prompt", ""),
        "scenes": [
            {
                "scene_id": s["scene_id"],
                "location": s.get("location", ""),
                "time": s.get("time", "day"),
                "narration": s["narration"],
                "image_prompt": s["image_prompt"],
                "video_prompt": s["video_prompt"],
                "status": "completed" if s["scene_id"] in frames else "pending",
                "image_url": (
                    state.signer.sign(frames[s["scene_id"]], base)
                    if s["scene_id"] in frames
                    else None
                ),
            }
            for s in doc.get("scenes") or []
        ],
        "character_sheets": [
            {
                "id": c["id"],
                "name": c["name"],
                "gender": c.get("gender", "unknown"),
                "description": c.get("description", ""),
                "combined_view_url": (
                    state.signer.sign(c["sheet_key"], base) if c.get("sheet_key") else None
                ),
            }
            for c in doc.get("characters") or []
        ],
        "conversation_id": doc.get("conversation_id"),
        "drama_id": doc.get("drama_id"),
        "script_id": doc.get("script_id"),
        "storyboard_task_id": doc.get("storyboard_task_id"),
        "character_ids": doc.get("character_ids") or [],
        "error": doc.get("error"),
        "version": doc["version"],
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
    }


async def scene_frames(state: GatewayState, draft: dict[str, Any]) -> dict[int, str]:
    """Scene number → frame key of the confirmed drama's first storyboard of that scene."""
    if draft["status"] != "completed" or not draft.get("drama_id"):
        return {}
    try:
        boards = await call(
            state.stubs.storyboards.ListStoryboards,
            storyboards_pb2.ListStoryboardsRequest(
                drama_id=draft["drama_id"],
                script_id=draft.get("script_id", ""),
                page=1,
                per_page=100,
            ),
            user_id=draft["owner_id"],
        )
    except NotFound:  # the drama was deleted since
        return {}
    frames: dict[int, str] = {}
    for board in boards.storyboards:
        if board.image_key and board.scene_number not in frames:
            frames[board.scene_number] = board.image_key
    return frames


def _service(state: GatewayState) -> Screenplays:
    return Screenplays(state, DraftDocuments(state.docs))


@router.post(
    "/draft",
    status_code=202,
    response_model=Envelope[ScreenplayOut],
    openapi_extra={BODY_LIMIT_KEY: DRAFT_BODY},
)
async def create_draft(
    body: DraftIn, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Start a draft: the screenplay, then a sheet per character (status `generating` until
    both are done, then `draft`); its conversation gets a `screenplay` message when ready."""
    draft, _ = await start_draft(state, user["_id"], body, body.conversation_id)
    return ok(screenplay_view(state, draft, base_url(request)))


@router.get("/{screenplay_id}", response_model=Envelope[ScreenplayOut])
async def get_screenplay(
    screenplay_id: ScreenplayId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    service = _service(state)
    draft = await service.advance(await service.documents.draft(user["_id"], screenplay_id))
    frames = await scene_frames(state, draft)
    return ok(screenplay_view(state, draft, base_url(request), frames))


def _apply(draft: dict[str, Any], body: DraftUpdate) -> dict[str, Any]:
    """The changes `body` makes to the draft; 400 naming a scene or character it lacks."""
    changes: dict[str, Any] = {}
    if body.title is not None:
        changes["title"] = body.title.strip()
    if body.scenes is not None:
        scenes = {s["scene_id"]: dict(s) for s in draft["scenes"]}
        for i, edit in enumerate(body.scenes):
            if edit.scene_id not in scenes:
                raise ValidationFailed(
                    f"the draft has no scene {edit.scene_id}", field=f"scenes.{i}.scene_id"
                )
            scene = scenes[edit.scene_id]
            for name in ("narration", "image_prompt", "video_prompt"):
                value = getattr(edit, name)
                if value is not None:
                    scene[name] = value.strip() if name == "narration" else value
        changes["scenes"] = sorted(scenes.values(), key=lambda s: s["scene_id"])
    if body.characters is not None:
        cast = {c["id"]: dict(c) for c in draft["characters"]}
        for i, change in enumerate(body.characters):
            if change.id not in cast:
                raise ValidationFailed(
                    f"the draft has no character {change.id}", field=f"characters.{i}.id"
                )
            if change.name is not None:
                cast[change.id]["name"] = change.name.strip()
            if change.description is not None:
                cast[change.id]["description"] = change.description
        names = [c["name"].casefold() for c in cast.values()]
        if len(set(names)) != len(names):
            raise ValidationFailed("character names must differ", field="characters")
        changes["characters"] = [cast[c["id"]] for c in draft["characters"]]
    if not changes:
        raise ValidationFailed("send title, scenes or characters", field="body")
    return changes


@router.put("/{screenplay_id}", response_model=Envelope[ScreenplayOut])
async def update_screenplay(
    screenplay_id: ScreenplayId,
    body: DraftUpdate,
    request: Request,
    state: State,
    user: CurrentUser,
) -> dict[str, Any]:
    """Edit a draft's title, scenes (by `scene_id`: narration, image and video prompt) and
    characters (by `id`: name, description). 409 (1003) once it is no longer a draft, or
    when `version` is stale."""
    service = _service(state)
    draft = await service.advance(await service.documents.draft(user["_id"], screenplay_id))
    if draft["status"] != "draft":
        raise AppError(
            f"screenplay {screenplay_id} is {draft['status']}: only a draft is edited",
            code=Code.EXISTS,
            field="status",
        )
    changes = _apply(draft, body)
    updated = await service.documents.update_draft(
        screenplay_id, changes, expected_version=body.version or draft["version"]
    )
    return ok(screenplay_view(state, updated, base_url(request)))


@router.post("/{screenplay_id}/confirm", status_code=202, response_model=Envelope[ScreenplayOut])
async def confirm_screenplay(
    screenplay_id: ScreenplayId,
    request: Request,
    state: State,
    user: CurrentUser,
    body: ConfirmIn | None = None,
) -> dict[str, Any]:
    """Make the draft a drama: its characters (each sheet their default image), its script
    (the edited scenes) and its storyboards (`storyboard_task_id`); then the drama renders with
    `POST /dramas/{drama_id}/videos/render`. 409 (1003) unless it is a draft."""
    service = _service(state)
    draft = await service.advance(await service.documents.draft(user["_id"], screenplay_id))
    confirmed = await service.confirm(draft, (body or ConfirmIn()).feedback)
    return ok(screenplay_view(state, confirmed, base_url(request)))
