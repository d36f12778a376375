"""`/media/images/*` and `/media/videos/*` (seed 004): upload, generate and read images and
videos, through the image and video providers (GET /providers; offline by default). Not to be
confused with `routers.media`, which serves signed files at the app root `/media/{key}`."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from storyreel_core.errors import ValidationFailed
from storyreel_core.ids import MAX_ID_LENGTH, id_pattern
from storyreel_gateway.deps import CurrentUser, State, base_url
from storyreel_gateway.drafts.bodies import DRAFT_BODY, ImageIn, VideoIn
from storyreel_gateway.drafts.documents import DraftDocuments
from storyreel_gateway.drafts.media import Media
from storyreel_gateway.drafts.starts import start_image, start_video
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.json_body import BODY_LIMIT_KEY, CheckedRoute
from storyreel_gateway.uploads import receive_form, upload_schema

router = APIRouter(
    route_class=CheckedRoute, prefix="/media", tags=["media"], responses=ERROR_RESPONSES
)

ImageId = Annotated[
    str,
    Path(pattern=id_pattern("img"), max_length=MAX_ID_LENGTH, description="`img_` then [0-9a-z_]"),
]
MovieId = Annotated[
    str,
    Path(pattern=id_pattern("vid"), max_length=MAX_ID_LENGTH, description="`vid_` then [0-9a-z_]"),
]
PURPOSES = ("reference", "character")


class MediaOut(BaseModel):
    id: str
    kind: str
    source: str
    status: str
    url: str | None = None
    task_id: str | None = None
    prompt: str | None = None
    provider: str | None = None
    model: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None
    duration: float | None = None
    image_id: str | None = None
    thumbnail_url: str | None = None
    error: dict[str, Any] | None = None
    created_at: str
    updated_at: str


class MediaStartOut(BaseModel):
    id: str
    task_id: str
    status: str


def _media(state: Any) -> Media:
    return Media(state, DraftDocuments(state.docs))


@router.post(
    "/images/upload",
    status_code=201,
    response_model=Envelope[MediaOut],
    openapi_extra=upload_schema("file", {"type": {"type": "string", "enum": list(PURPOSES)}}),
)
async def upload_image(request: Request, state: State, user: CurrentUser) -> dict[str, Any]:
    """Multipart `file` (PNG, JPEG, WebP or GIF by content, else 415/3002; ≤
    `STORYREEL_MAX_UPLOAD_BYTES`, else 413/3003) and `type` reference (default) or character."""
    limit = state.settings.max_upload_bytes
    async with receive_form(request, file_field="file", limit=limit) as form:
        if form.file is None:
            raise ValidationFailed("file is required", field="file")
        purpose = form.fields.get("type", "reference").strip() or "reference"
        if purpose not in PURPOSES:
            raise ValidationFailed("type must be reference or character", field="type")
        data = await asyncio.to_thread(form.file.path.read_bytes)
        doc = await _media(state).store_image(
            user["_id"], data, purpose=purpose, filename=form.file.filename
        )
    return ok(_media(state).view(doc, base_url(request)))


@router.post(
    "/images/generate",
    status_code=202,
    response_model=Envelope[MediaStartOut],
    openapi_extra={BODY_LIMIT_KEY: DRAFT_BODY},
)
async def generate_image(body: ImageIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """Draw `prompt` at `size` with the image provider `model` belongs to (or `provider`);
    `reference_images` are image ids or base64 images. Read it at `GET /media/images/{id}`."""
    doc, task_id = await start_image(state, user["_id"], body, body.conversation_id)
    return ok({"id": doc["_id"], "task_id": task_id, "status": "pending"})


@router.get("/images/{image_id}", response_model=Envelope[MediaOut])
async def get_image(
    image_id: ImageId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    media = _media(state)
    doc = await media.refresh(await media.documents.media(user["_id"], image_id, "image"))
    return ok(media.view(doc, base_url(request)))


@router.post("/videos/generate", status_code=202, response_model=Envelope[MediaStartOut])
async def generate_video(body: VideoIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """Animate the image `image_id` (uploaded or generated, yours) for `seconds` with the video
    provider `model` belongs to (offline: a camera move). Read it at `GET /media/videos/{id}`."""
    doc, task_id = await start_video(state, user["_id"], body, body.conversation_id)
    return ok({"id": doc["_id"], "task_id": task_id, "status": "pending"})


@router.get("/videos/{video_id}", response_model=Envelope[MediaOut])
async def get_video(
    video_id: MovieId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    media = _media(state)
    doc = await media.refresh(await media.documents.media(user["_id"], video_id, "video"))
    return ok(media.view(doc, base_url(request)))
