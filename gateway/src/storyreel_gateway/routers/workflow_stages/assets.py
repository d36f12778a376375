"""Seed 001 §4, the assets stage: a design image per character, prop and scene of a script
(`POST /workflow/assets`), listed per drama with any uploaded reference image
(`GET /workflow/assets`), a reference uploaded for a design, and a design redrawn in place."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from storyreel_core.errors import NotFound, ValidationFailed
from storyreel_core.ids import id_pattern, is_id
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import assets_pb2, script_pb2, workflows_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import object_to_dict, objects_to_list
from storyreel_gateway.deps import CurrentUser, State, base_url
from storyreel_gateway.envelope import Envelope, ok
from storyreel_gateway.fields import ImageModel, ImageProvider, Seed
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.links import TASK_LINKS
from storyreel_gateway.routers import assets as studio_assets
from storyreel_gateway.routers.workflow_stages.runs import (
    PAGE,
    STARTS_A_RUN,
    AssetPathId,
    DramaRef,
    WorkflowRef,
    accept_run,
    named_drama,
    script_ref,
    sign,
    stage_runs,
)
from storyreel_gateway.state import GatewayState
from storyreel_gateway.uploads import staged_upload, upload_schema

router = APIRouter(route_class=CheckedRoute)
log = get_logger("storyreel.gateway.workflow_stages")


class DesignItemIn(studio_assets.DesignItemIn):
    """The studio's design item; seed 001's bodies refuse fields they do not know."""

    model_config = ConfigDict(extra="forbid")


class AssetOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ai_provider: str | None = Field(
        default=None, max_length=64, description="recorded; the items come from the script"
    )
    image_provider: ImageProvider = ""
    image_model: ImageModel = ""
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
    **STARTS_A_RUN,
    summary="Design the characters, props and scenes (seed 001 §4.1)",
)
async def create_assets(body: AssetsStageIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """A design image per item through `options.image_provider` (GET /providers; default the
    offline renderer): `items`, or the script's characters, props and scene locations."""
    uid = user["_id"]
    drama = await named_drama(state, uid, body.workflow_id, body.drama_id)
    if body.items:
        if drama is None:
            if body.script_id and is_id(body.script_id, "wscript"):
                drama = (await stage_runs(state).get(uid, "script", body.script_id))["drama_id"]
            else:
                raise ValidationFailed("give workflow_id or drama_id", field="drama_id")
        items = [i.model_dump() for i in body.items]
    else:
        drama, script_id = await script_ref(state, uid, body.script_id, drama)
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
    return await accept_run(
        state,
        uid,
        "assets",
        drama,
        [ref.task_id],
        status=ref.status,
        workflow_id=body.workflow_id,
        items=items,
    )


async def _references(state: GatewayState, uid: str, drama: str) -> dict[str, str]:
    """design asset id → its newest reference asset id."""
    out: dict[str, str] = {}
    for doc in await stage_runs(state).find(uid, kind="ref", drama_id=drama):
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
        "design_image_url": sign(state, a.key, base),
        "thumbnail_url": sign(state, a.thumbnail_key, base),
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
    drama = await named_drama(state, uid, workflow_id, drama_id)
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
    views = [_asset_view(state, a, sign(state, keys.get(a.id, ""), base), base) for a in found]
    return ok({"assets": views, "total": len(views)})


async def _find_asset(state: GatewayState, uid: str, asset_id: str) -> assets_pb2.Asset:
    """A design asset of one of the caller's stage-run or workflow dramas; 404 otherwise."""
    dramas = await stage_runs(state).dramas(uid)
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
    runs = stage_runs(state)
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
