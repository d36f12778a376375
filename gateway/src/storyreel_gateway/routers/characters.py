"""`/dramas/{drama_id}/characters`: characters, their images and batches (seed 000 ch. 3).

Served by the asset service's CharacterService over gRPC; image keys come back as signed,
expiring URLs. Uploads stream through `uploads.staged_upload` (size-checked, staged by key).
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
from storyreel_gateway.fields import (
    CharacterId,
    DramaId,
    ExpectedVersion,
    ImageModel,
    ImageProvider,
    Seed,
)
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.links import CHARACTER_LINKS, TASK_LINKS
from storyreel_gateway.media_signer import MediaSigner
from storyreel_gateway.routers.pipeline import Accepted
from storyreel_gateway.uploads import staged_upload, upload_schema

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/dramas/{drama_id}/characters",
    tags=["characters"],
    responses=ERROR_RESPONSES,
)

Gender = Literal["male", "female", "unknown"]


class CharacterIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["小明"])
    description: str = Field(default="", max_length=5000)
    gender: Gender = "unknown"
    age_range: str = Field(default="", max_length=40, examples=["15-20"])
    image_prompt: str = Field(default="", max_length=2000)


class CharacterPut(CharacterIn):
    version: ExpectedVersion = None


class CharacterPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=5000)
    gender: Gender | None = None
    age_range: str | None = Field(default=None, max_length=40)
    image_prompt: str | None = Field(default=None, max_length=2000)
    default_image_id: str | None = Field(default=None, max_length=80)
    version: ExpectedVersion = None


class GenerateImageIn(BaseModel):
    prompt: str = Field(default="", max_length=2000, description="defaults to the character's")
    style: str = Field(default="", max_length=200, examples=["赛博朋克"])
    count: int = Field(default=1, ge=1, le=4)
    seed: Seed = 0
    image_provider: ImageProvider = ""
    image_model: ImageModel = ""


class CharacterImageOut(BaseModel):
    id: str
    url: str
    thumbnail_url: str | None = None
    source: str
    content_type: str
    width: int
    height: int
    created_at: str


class CharacterOut(BaseModel):
    id: str
    drama_id: str
    name: str
    description: str
    gender: str
    age_range: str
    image_prompt: str
    default_image_id: str | None = None
    image_url: str | None = Field(default=None, description="the default image, signed")
    thumbnail_url: str | None = None
    images: list[CharacterImageOut]
    version: int
    created_at: str
    updated_at: str


class DeletedOut(BaseModel):
    deleted: list[str]


def _sign(signer: MediaSigner, key: str, base: str) -> str | None:
    return signer.sign(key, base) if key else None


def character_out(msg: assets_pb2.Character, signer: MediaSigner, base: str) -> dict[str, Any]:
    images = [
        {
            "id": i.id,
            "url": signer.sign(i.key, base),
            "thumbnail_url": _sign(signer, i.thumbnail_key, base),
            "source": i.source,
            "content_type": i.content_type,
            "width": i.width,
            "height": i.height,
            "created_at": i.created_at,
        }
        for i in msg.images
    ]
    default = next((i for i in images if i["id"] == msg.default_image_id), None)
    return {
        "id": msg.id,
        "drama_id": msg.drama_id,
        "name": msg.name,
        "description": msg.description,
        "gender": msg.gender,
        "age_range": msg.age_range,
        "image_prompt": msg.image_prompt,
        "default_image_id": msg.default_image_id or None,
        "image_url": default["url"] if default else None,
        "thumbnail_url": default["thumbnail_url"] if default else None,
        "images": images,
        "version": msg.version,
        "created_at": msg.created_at,
        "updated_at": msg.updated_at,
    }


def parse_ids(ids: str) -> list[str]:
    found = [i.strip() for i in ids.split(",") if i.strip()]
    if not found:
        raise ValidationFailed("ids: give character ids, comma separated", field="ids")
    if len(found) > 100:
        raise ValidationFailed("ids: at most 100 at a time", field="ids")
    return found


IdsQuery = Annotated[str, Query(min_length=1, max_length=8000, examples=["char_a,char_b"])]


@router.post("", status_code=201, response_model=Envelope[CharacterOut], responses=CHARACTER_LINKS)
async def create_character(
    drama_id: DramaId, body: CharacterIn, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    msg = await call(
        state.stubs.characters.CreateCharacter,
        assets_pb2.CreateCharacterRequest(drama_id=drama_id, **body.model_dump()),
        user_id=user["_id"],
    )
    return ok(character_out(msg, state.signer, base_url(request)))


@router.get("", response_model=ListEnvelope[CharacterOut])
async def list_characters(
    drama_id: DramaId,
    request: Request,
    state: State,
    user: CurrentUser,
    paging: Paging,
    keyword: Annotated[str, Query(max_length=100)] = "",
) -> dict[str, Any]:
    msg = await call(
        state.stubs.characters.ListCharacters,
        assets_pb2.ListCharactersRequest(
            drama_id=drama_id, page=paging.page, per_page=paging.per_page, keyword=keyword
        ),
        user_id=user["_id"],
    )
    base = base_url(request)
    return paged(
        [character_out(c, state.signer, base) for c in msg.characters],
        page=paging.page,
        per_page=paging.per_page,
        total=msg.total,
    )


@router.get("/batch", response_model=Envelope[list[CharacterOut]])
async def batch_get_characters(
    drama_id: DramaId, ids: IdsQuery, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """The caller's characters among `ids` (comma separated); unknown ids are left out."""
    msg = await call(
        state.stubs.characters.BatchGetCharacters,
        assets_pb2.CharacterIdsRequest(drama_id=drama_id, ids=parse_ids(ids)),
        user_id=user["_id"],
    )
    base = base_url(request)
    return ok([character_out(c, state.signer, base) for c in msg.characters])


@router.delete("/batch", response_model=Envelope[DeletedOut])
async def batch_delete_characters(
    drama_id: DramaId, ids: IdsQuery, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Delete the caller's characters among `ids` with their images; answers what was deleted."""
    msg = await call(
        state.stubs.characters.BatchDeleteCharacters,
        assets_pb2.CharacterIdsRequest(drama_id=drama_id, ids=parse_ids(ids)),
        user_id=user["_id"],
    )
    return ok({"deleted": list(msg.ids)})


@router.get("/{character_id}", response_model=Envelope[CharacterOut])
async def get_character(
    drama_id: DramaId, character_id: CharacterId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    msg = await call(
        state.stubs.characters.GetCharacter,
        assets_pb2.CharacterRef(drama_id=drama_id, character_id=character_id),
        user_id=user["_id"],
    )
    return ok(character_out(msg, state.signer, base_url(request)))


async def _update(
    state: State,
    request: Request,
    user_id: str,
    drama_id: DramaId,
    character_id: CharacterId,
    fields: dict[str, Any],
    *,
    replace: bool,
    version: int | None,
) -> dict[str, Any]:
    msg = assets_pb2.UpdateCharacterRequest(
        drama_id=drama_id, character_id=character_id, replace=replace, expected_version=version or 0
    )
    for name, value in fields.items():
        if value is not None:
            setattr(msg, name, value)
    updated = await call(state.stubs.characters.UpdateCharacter, msg, user_id=user_id)
    return ok(character_out(updated, state.signer, base_url(request)))


@router.put("/{character_id}", response_model=Envelope[CharacterOut])
async def replace_character(
    drama_id: DramaId,
    character_id: CharacterId,
    body: CharacterPut,
    request: Request,
    state: State,
    user: CurrentUser,
) -> dict[str, Any]:
    fields = body.model_dump(exclude={"version"})
    return await _update(
        state, request, user["_id"], drama_id, character_id, fields, replace=True,
        version=body.version,
    )  # fmt: skip


@router.patch("/{character_id}", response_model=Envelope[CharacterOut])
async def patch_character(
    drama_id: DramaId,
    character_id: CharacterId,
    body: CharacterPatch,
    request: Request,
    state: State,
    user: CurrentUser,
) -> dict[str, Any]:
    fields = body.model_dump(exclude={"version"}, exclude_unset=True)
    return await _update(
        state, request, user["_id"], drama_id, character_id, fields, replace=False,
        version=body.version,
    )  # fmt: skip


@router.delete("/{character_id}", response_model=Envelope[None])
async def delete_character(
    drama_id: DramaId, character_id: CharacterId, state: State, user: CurrentUser
) -> dict[str, Any]:
    await call(
        state.stubs.characters.DeleteCharacter,
        assets_pb2.CharacterRef(drama_id=drama_id, character_id=character_id),
        user_id=user["_id"],
    )
    return ok(None)


@router.post(
    "/{character_id}/generate-image",
    status_code=202,
    response_model=Envelope[Accepted],
    responses=TASK_LINKS,
)
async def generate_character_image(
    drama_id: DramaId,
    character_id: CharacterId,
    body: GenerateImageIn,
    state: State,
    user: CurrentUser,
) -> dict[str, Any]:
    """A task whose result is `{character_id, images: [{id, url, thumbnail_url}]}`.

    The first image becomes the character's default when it has none.
    """
    ref = await call(
        state.stubs.characters.GenerateCharacterImages,
        assets_pb2.GenerateCharacterImagesRequest(
            drama_id=drama_id, character_id=character_id, **body.model_dump()
        ),
        user_id=user["_id"],
    )
    return ok({"task_id": ref.task_id, "status": ref.status, "estimated_time": ref.estimated_time})


@router.post(
    "/{character_id}/upload-image",
    status_code=201,
    response_model=Envelope[CharacterOut],
    openapi_extra=upload_schema(
        "image",
        {"make_default": {"type": "boolean", "default": False}},
    ),
)
async def upload_character_image(
    drama_id: DramaId, character_id: CharacterId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Add an uploaded image (PNG, JPEG, WebP or GIF by content, ≤ `max_upload_bytes`)."""
    async with staged_upload(
        request,
        state.objects,
        user_id=user["_id"],
        file_field="image",
        limit=state.settings.max_upload_bytes,
    ) as upload:
        make_default = upload.fields.get("make_default", "false").strip().lower()
        if make_default not in ("true", "false", "1", "0", "yes", "no", "on", "off", ""):
            raise ValidationFailed("make_default must be true or false", field="make_default")
        msg = await call(
            state.stubs.characters.UploadCharacterImage,
            assets_pb2.UploadCharacterImageRequest(
                drama_id=drama_id,
                character_id=character_id,
                staging_key=upload.key,
                filename=upload.filename,
                make_default=make_default in ("true", "1", "yes", "on"),
            ),
            user_id=user["_id"],
            timeout=max(state.settings.grpc_deadline_s, 60.0),
        )
    return ok(character_out(msg, state.signer, base_url(request)))
