"""`/dramas/{drama_id}/assets`: a drama's asset library (seed 000 ch. 6, seed 001 §4).

Uploaded files (image, video, audio, document — decided by content) and generated designs
(character, prop, scene), served by the asset service's AssetLibraryService over gRPC.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import assets_pb2
from storyreel_core.rpc.clients import call
from storyreel_gateway.deps import CurrentUser, Paging, State, base_url
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ListEnvelope, ok, paged
from storyreel_gateway.fields import NOT_BLANK, AssetId, DramaId, Seed
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.links import ASSET_LINKS, TASK_LINKS
from storyreel_gateway.media_signer import MediaSigner
from storyreel_gateway.routers.pipeline import Accepted
from storyreel_gateway.uploads import staged_upload, upload_schema

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/dramas/{drama_id}/assets",
    tags=["assets"],
    responses=ERROR_RESPONSES,
)

AssetType = Literal["image", "video", "audio", "document", "character", "prop", "scene"]
ASSET_TYPES = ("image", "video", "audio", "document", "character", "prop", "scene")


class AssetOut(BaseModel):
    id: str
    drama_id: str
    type: Literal["image", "video", "audio", "document"]
    kind: Literal["character", "prop", "scene"] | None = Field(
        default=None, description="the design kind, for design images"
    )
    name: str
    description: str
    prompt: str
    tags: list[str]
    url: str = Field(description="signed, expiring; HTTP Range supported")
    thumbnail_url: str | None = None
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    source: Literal["uploaded", "generated"]
    status: str
    created_at: str
    updated_at: str


class DesignItemIn(BaseModel):
    """A design to draw: the studio's `assets/generate` and seed 001's assets stage."""

    kind: Literal["character", "prop", "scene"]
    name: str = Field(min_length=1, max_length=100, pattern=NOT_BLANK, examples=["青锋剑"])
    description: str = Field(default="", max_length=2000)


class GenerateAssetsIn(BaseModel):
    items: list[DesignItemIn] = Field(min_length=1, max_length=20)
    script_id: None = Field(
        default=None, description="reserved: designs from a script are not supported yet"
    )
    style: str = Field(default="", max_length=200)
    seed: Seed = 0
    tags: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=20
    )


def asset_out(msg: assets_pb2.Asset, signer: MediaSigner, base: str) -> dict[str, Any]:
    return {
        "id": msg.id,
        "drama_id": msg.drama_id,
        "type": msg.media_type,
        "kind": msg.kind or None,
        "name": msg.name,
        "description": msg.description,
        "prompt": msg.prompt,
        "tags": list(msg.tags),
        "url": signer.sign(msg.key, base),
        "thumbnail_url": signer.sign(msg.thumbnail_key, base) if msg.thumbnail_key else None,
        "content_type": msg.content_type,
        "size": msg.size,
        "width": msg.width or None,
        "height": msg.height or None,
        "source": msg.source,
        "status": msg.status,
        "created_at": msg.created_at,
        "updated_at": msg.updated_at,
    }


def split_tags(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


@router.get("", response_model=ListEnvelope[AssetOut])
async def list_assets(
    drama_id: DramaId,
    request: Request,
    state: State,
    user: CurrentUser,
    paging: Paging,
    type: Annotated[AssetType | None, Query(description="media type or design kind")] = None,
    tags: Annotated[str, Query(max_length=1000, description="comma separated, any match")] = "",
    keyword: Annotated[str, Query(max_length=100, description="substring of the name")] = "",
) -> dict[str, Any]:
    msg = await call(
        state.stubs.assets.ListAssets,
        assets_pb2.ListAssetsRequest(
            drama_id=drama_id,
            page=paging.page,
            per_page=paging.per_page,
            type=type or "",
            tags=split_tags(tags),
            keyword=keyword,
        ),
        user_id=user["_id"],
    )
    base = base_url(request)
    return paged(
        [asset_out(a, state.signer, base) for a in msg.assets],
        page=paging.page,
        per_page=paging.per_page,
        total=msg.total,
    )


@router.post(
    "/upload",
    status_code=201,
    response_model=Envelope[AssetOut],
    responses=ASSET_LINKS,
    openapi_extra=upload_schema(
        "file",
        {
            "type": {"type": "string", "enum": list(ASSET_TYPES)},
            "tags": {"type": "string", "description": "comma separated"},
        },
    ),
)
async def upload_asset(
    drama_id: DramaId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Add a file: its type is decided by content (magic bytes), never by its name.

    Images PNG/JPEG/WebP/GIF (≤ 40 megapixels), video MP4/MOV/WebM, audio WAV/MP3/OGG/FLAC/M4A,
    documents PDF and UTF-8 text/Markdown; at most `max_upload_bytes` (413, code 3003);
    anything else 415 (code 3002). `type` (optional) must match the content; a design kind
    (character, prop, scene) files an image as that kind's reference.
    """
    async with staged_upload(
        request,
        state.objects,
        user_id=user["_id"],
        file_field="file",
        limit=state.settings.max_upload_bytes,
    ) as upload:
        declared = upload.fields.get("type", "").strip()
        if declared and declared not in ASSET_TYPES:
            raise ValidationFailed(f"type must be one of {', '.join(ASSET_TYPES)}", field="type")
        msg = await call(
            state.stubs.assets.UploadAsset,
            assets_pb2.UploadAssetRequest(
                drama_id=drama_id,
                staging_key=upload.key,
                filename=upload.filename,
                type=declared,
                tags=split_tags(upload.fields.get("tags", "")),
            ),
            user_id=user["_id"],
            timeout=max(state.settings.grpc_deadline_s, 60.0),
        )
    return ok(asset_out(msg, state.signer, base_url(request)))


@router.post("/generate", status_code=202, response_model=Envelope[Accepted], responses=TASK_LINKS)
async def generate_assets(
    drama_id: DramaId, body: GenerateAssetsIn, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Design images for `items`; the task's result is `{assets: [{id, kind, name, url, …}]}`."""
    ref = await call(
        state.stubs.assets.GenerateAssets,
        assets_pb2.GenerateAssetsRequest(
            drama_id=drama_id,
            items=[assets_pb2.DesignItem(**i.model_dump()) for i in body.items],
            style=body.style,
            seed=body.seed,
            tags=body.tags,
        ),
        user_id=user["_id"],
    )
    return ok({"task_id": ref.task_id, "status": ref.status, "estimated_time": ref.estimated_time})


@router.get("/{asset_id}", response_model=Envelope[AssetOut])
async def get_asset(
    drama_id: DramaId, asset_id: AssetId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    msg = await call(
        state.stubs.assets.GetAsset,
        assets_pb2.AssetRef(drama_id=drama_id, asset_id=asset_id),
        user_id=user["_id"],
    )
    return ok(asset_out(msg, state.signer, base_url(request)))


@router.delete("/{asset_id}", response_model=Envelope[None])
async def delete_asset(
    drama_id: DramaId, asset_id: AssetId, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Delete the asset and its media."""
    await call(
        state.stubs.assets.DeleteAsset,
        assets_pb2.AssetRef(drama_id=drama_id, asset_id=asset_id),
        user_id=user["_id"],
    )
    return ok(None)
