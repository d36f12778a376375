"""`/dramas`: CRUD served by the script service over gRPC."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from storyreel_core.proto.storyreel.v1 import script_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import object_to_dict, to_object
from storyreel_gateway.deps import CurrentUser, Paging, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ListEnvelope, ok, paged
from storyreel_gateway.fields import DramaId, ExpectedVersion, FreeObject
from storyreel_gateway.json_body import BODY_LIMIT_KEY, CheckedRoute
from storyreel_gateway.links import DRAMA_LINKS

router = APIRouter(
    route_class=CheckedRoute, prefix="/dramas", tags=["dramas"], responses=ERROR_RESPONSES
)

DRAMA_BODY = 1024 * 1024  # description and free-form settings


class DramaIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=5000)
    settings: FreeObject = Field(default_factory=dict)


class DramaPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=5000)
    settings: FreeObject | None = None
    version: ExpectedVersion = None


class DramaPut(DramaIn):
    version: ExpectedVersion = None


class DramaOut(BaseModel):
    id: str
    name: str
    description: str
    settings: dict[str, Any]
    status: str
    version: int
    created_at: str
    updated_at: str


def drama_out(msg: script_pb2.Drama) -> dict[str, Any]:
    return {
        "id": msg.id,
        "name": msg.name,
        "description": msg.description,
        "settings": object_to_dict(msg.settings),
        "status": msg.status,
        "version": msg.version,
        "created_at": msg.created_at,
        "updated_at": msg.updated_at,
    }


@router.post(
    "",
    status_code=201,
    responses=DRAMA_LINKS,
    response_model=Envelope[DramaOut],
    openapi_extra={BODY_LIMIT_KEY: DRAMA_BODY},
)
async def create_drama(body: DramaIn, state: State, user: CurrentUser) -> dict[str, Any]:
    request = script_pb2.CreateDramaRequest(
        name=body.name,
        description=body.description,
        settings=to_object(body.settings),
    )
    msg = await call(state.stubs.script.CreateDrama, request, user_id=user["_id"])
    return ok(drama_out(msg))


@router.get("", response_model=ListEnvelope[DramaOut])
async def list_dramas(
    state: State,
    user: CurrentUser,
    paging: Paging,
    keyword: Annotated[str, Query(max_length=100)] = "",
    order_by: Literal["created_at", "updated_at", "name"] = "created_at",
    order: Literal["asc", "desc"] = "desc",
) -> dict[str, Any]:
    request = script_pb2.ListDramasRequest(
        page=paging.page, per_page=paging.per_page, keyword=keyword, order_by=order_by, order=order
    )
    msg = await call(state.stubs.script.ListDramas, request, user_id=user["_id"])
    return paged(
        [drama_out(d) for d in msg.dramas],
        page=paging.page,
        per_page=paging.per_page,
        total=msg.total,
    )


@router.get("/{drama_id}", response_model=Envelope[DramaOut])
async def get_drama(drama_id: DramaId, state: State, user: CurrentUser) -> dict[str, Any]:
    request = script_pb2.GetDramaRequest(id=drama_id)
    return ok(drama_out(await call(state.stubs.script.GetDrama, request, user_id=user["_id"])))


async def _update(
    state: State,
    user_id: str,
    drama_id: DramaId,
    fields: dict[str, Any],
    *,
    replace: bool,
    version: int | None,
) -> dict[str, Any]:
    request = script_pb2.UpdateDramaRequest(
        id=drama_id, replace=replace, expected_version=version or 0
    )
    if fields.get("name") is not None:
        request.name = fields["name"]
    if fields.get("description") is not None:
        request.description = fields["description"]
    if fields.get("settings") is not None:
        request.settings.CopyFrom(to_object(fields["settings"]))
    return ok(drama_out(await call(state.stubs.script.UpdateDrama, request, user_id=user_id)))


@router.put(
    "/{drama_id}", response_model=Envelope[DramaOut], openapi_extra={BODY_LIMIT_KEY: DRAMA_BODY}
)
async def replace_drama(
    drama_id: DramaId, body: DramaPut, state: State, user: CurrentUser
) -> dict[str, Any]:
    return await _update(
        state,
        user["_id"],
        drama_id,
        body.model_dump(exclude={"version"}),
        replace=True,
        version=body.version,
    )


@router.patch(
    "/{drama_id}", response_model=Envelope[DramaOut], openapi_extra={BODY_LIMIT_KEY: DRAMA_BODY}
)
async def patch_drama(
    drama_id: DramaId, body: DramaPatch, state: State, user: CurrentUser
) -> dict[str, Any]:
    fields = body.model_dump(exclude={"version"}, exclude_unset=True)
    return await _update(state, user["_id"], drama_id, fields, replace=False, version=body.version)


@router.delete("/{drama_id}", response_model=Envelope[None])
async def delete_drama(drama_id: DramaId, state: State, user: CurrentUser) -> dict[str, Any]:
    request = script_pb2.DeleteDramaRequest(id=drama_id)
    await call(state.stubs.script.DeleteDrama, request, user_id=user["_id"])
    return ok(None)
