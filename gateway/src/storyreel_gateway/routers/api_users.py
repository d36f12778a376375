"""`/auth/api-users` (seed 003 API用户管理): admins create and manage API users and keys.

Every route is for admins (`AdminUser`: 403, code 1004, for anyone else, API users included).
A key is in the answer of `POST /auth/api-users` and `POST …/{id}/regenerate-key` only, never
again: the platform keeps its keyed hash (`auth/api_keys.py`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Query
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from storyreel_gateway.auth.api_user_store import OPERATIONS, api_user_view
from storyreel_gateway.auth.roles import AdminUser
from storyreel_gateway.deps import Paging, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ListEnvelope, ok, paged
from storyreel_gateway.fields import ApiUserId
from storyreel_gateway.json_body import CheckedRoute

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/auth/api-users",
    tags=["api-users"],
    responses=ERROR_RESPONSES,
)

Operation = Literal[
    "auth",
    "dramas",
    "scripts",
    "characters",
    "assets",
    "storyboards",
    "audio",
    "videos",
    "pipeline",
    "tasks",
    "realtime",
    "providers",
    "personas",
    "conversations",
    "screenplays",
    "media",
    "monitoring",
    "workflow",
    "subtitles",
]
assert set(get_args(Operation)) == set(OPERATIONS)  # one list, stated twice for OpenAPI
Quota = Annotated[int, Field(ge=1, le=1_000_000_000)]
_DISPLAY = AliasChoices("display_name", "displayName", "name")
_DAY = AliasChoices("quota_per_day", "quotaPerDay")
_MONTH = AliasChoices("quota_per_month", "quotaPerMonth", "quota_limit", "quotaLimit")
_OPS = AliasChoices("allowed_operations", "allowedOperations")
_ACTIVE = AliasChoices("is_active", "isActive")


class ApiUserFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(
        default=None, max_length=100, validation_alias=_DISPLAY, description="also `name`"
    )
    description: str | None = Field(default=None, max_length=1000)
    quota_per_day: Quota | None = Field(
        default=None, validation_alias=_DAY, description="requests per day; null = no limit"
    )
    quota_per_month: Quota | None = Field(
        default=None,
        validation_alias=_MONTH,
        description="requests per month (30 days); seed 003's `quota_limit`; null = no limit",
    )
    allowed_operations: list[Operation] | None = Field(
        default=None,
        max_length=len(OPERATIONS),
        validation_alias=_OPS,
        description="route groups (OpenAPI tags) the key may use; null = every one",
    )
    is_active: bool | None = Field(default=None, validation_alias=_ACTIVE)


class ApiUserIn(ApiUserFields):
    username: str = Field(
        min_length=3,
        max_length=50,
        pattern=r"^[A-Za-z0-9_.\-]{3,50}$",
        examples=["partner_company_001"],
        description="unique among API users, ignoring case",
    )


class QuotaWindow(BaseModel):
    period: Literal["day", "month"]
    limit: int
    used: int
    remaining: int
    reset_at: str


class ApiUserOut(BaseModel):
    id: str
    username: str
    display_name: str
    description: str
    quota_per_day: int | None
    quota_per_month: int | None
    quota_limit: int | None = Field(description="seed 003's name: quota_per_month")
    quota_used: int = Field(description="requests in the current month window")
    allowed_operations: list[str] | None
    is_active: bool
    created_at: str
    updated_at: str
    key_created_at: str | None
    last_used_at: str | None


class ApiUserCreated(ApiUserOut):
    api_key: str = Field(description="shown this once; only its keyed hash is stored")


class UsageStats(BaseModel):
    total_requests: int
    successful_requests: int
    failed_requests: int
    last_30_days: int
    today: int


class UsageDay(BaseModel):
    day: str
    key_id: str
    requests: int
    succeeded: int
    failed: int


class ApiUserDetail(ApiUserOut):
    quota: dict[str, QuotaWindow | None]
    usage_stats: UsageStats
    usage_by_day: list[UsageDay] = Field(description="the last 30 days, newest first")


class KeyOut(BaseModel):
    id: str
    username: str
    api_key: str = Field(description="shown this once; the previous key no longer works")
    regenerated_at: str


async def _out(state: Any, doc: dict[str, Any]) -> dict[str, Any]:
    quota = await state.api_quota.state(doc)
    month = quota["month"]
    return {
        **api_user_view(doc),
        "quota_limit": doc.get("quota_per_month"),
        "quota_used": month["used"] if month else 0,
    }


@router.post("", status_code=201, response_model=Envelope[ApiUserCreated])
async def create_api_user(body: ApiUserIn, state: State, _admin: AdminUser) -> dict[str, Any]:
    fields = body.model_dump(exclude_none=True)
    doc, key = await state.api_users.create(fields)
    return ok({**(await _out(state, doc)), "api_key": key})


@router.get("", response_model=ListEnvelope[ApiUserOut])
async def list_api_users(
    state: State,
    _admin: AdminUser,
    paging: Paging,
    is_active: Annotated[bool | None, Query(alias="is_active")] = None,
) -> dict[str, Any]:
    skip = (paging.page - 1) * paging.per_page
    items, total = await state.api_users.list(is_active, skip, paging.per_page)
    views = [await _out(state, doc) for doc in items]
    return paged(views, page=paging.page, per_page=paging.per_page, total=total)


@router.get("/{api_user_id}", response_model=Envelope[ApiUserDetail])
async def get_api_user(api_user_id: ApiUserId, state: State, _admin: AdminUser) -> dict[str, Any]:
    doc = await state.api_users.get(api_user_id)
    usage = await state.api_users.usage(api_user_id)
    quota = await state.api_quota.state(doc)
    return ok({**(await _out(state, doc)), "quota": quota, **usage})


@router.put("/{api_user_id}", response_model=Envelope[ApiUserOut])
async def update_api_user(
    api_user_id: ApiUserId, body: ApiUserFields, state: State, _admin: AdminUser
) -> dict[str, Any]:
    """Sets the fields present; `null` for a quota or `allowed_operations` removes the limit."""
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if changes.get("is_active", False) is None:
        changes.pop("is_active")
    for text in ("display_name", "description"):
        if text in changes and changes[text] is None:
            changes[text] = ""
    doc = await state.api_users.update(api_user_id, changes)
    return ok(await _out(state, doc))


@router.post("/{api_user_id}/regenerate-key", response_model=Envelope[KeyOut])
async def regenerate_key(api_user_id: ApiUserId, state: State, _admin: AdminUser) -> dict[str, Any]:
    doc, key = await state.api_users.regenerate(api_user_id)
    return ok(
        {
            "id": doc["_id"],
            "username": doc["username"],
            "api_key": key,
            "regenerated_at": doc["key_created_at"],
        }
    )


@router.post("/{api_user_id}/disable", response_model=Envelope[ApiUserOut])
async def disable_api_user(
    api_user_id: ApiUserId, state: State, _admin: AdminUser
) -> dict[str, Any]:
    """The key stops working at once (401) until `enable`."""
    return ok(await _out(state, await state.api_users.update(api_user_id, {"is_active": False})))


@router.post("/{api_user_id}/enable", response_model=Envelope[ApiUserOut])
async def enable_api_user(
    api_user_id: ApiUserId, state: State, _admin: AdminUser
) -> dict[str, Any]:
    return ok(await _out(state, await state.api_users.update(api_user_id, {"is_active": True})))
