"""Dependencies as `Annotated` aliases: `State`, `CurrentUser`, `Paging`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from storyreel_core.errors import AppError, Code
from storyreel_gateway.auth.api_usage import ApiUse, mark_use
from storyreel_gateway.auth.api_user_store import OPERATIONS, acting_user
from storyreel_gateway.state import GatewayState

_bearer = HTTPBearer(auto_error=False, description="JWT access token from /auth/login")
_api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="an API user's key (`sk-sr-…`, seed 003), from POST /auth/api-users",
)


def get_state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


State = Annotated[GatewayState, Depends(get_state)]


async def current_user(
    request: Request,
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> dict[str, Any]:
    """The caller: a person by `Authorization: Bearer <JWT>` (tried first when present), or
    an API user by `X-API-Key`, acting as itself (its own owner scope). AppError 401 (1006)
    without either or for a bad one; see `admit_api_user` for what a key may be refused."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return await user_for_token(state, credentials.credentials)
    if api_key:
        doc = await state.api_users.authenticate(api_key)
        mark_use(request.scope, ApiUse(state.api_users, doc["_id"], doc["key_id"]))
        route = request.scope.get("route")
        await admit_api_user(state, doc, getattr(route, "tags", None) or [])
        return acting_user(doc)
    raise AppError("authentication required", code=Code.TOKEN_INVALID, field="authorization")


async def admit_api_user(state: GatewayState, doc: dict[str, Any], tags: list[Any]) -> None:
    """Let an authenticated API user's request through, or refuse it: 403 (1004) when the
    route's operation (its OpenAPI tag) is not in `allowed_operations`, 429 (1005) when a
    quota window is spent (`ApiQuota.charge`)."""
    allowed = doc.get("allowed_operations")
    operations = [str(t) for t in tags if str(t) in OPERATIONS]
    if allowed is not None and not any(op in allowed for op in operations):
        raise AppError(
            f"this API key may not use {', '.join(operations) or 'this route'}",
            code=Code.FORBIDDEN,
            field="allowed_operations",
        )
    await state.api_quota.charge(doc)


async def user_for_token(state: GatewayState, token: str) -> dict[str, Any]:
    """The user an access token speaks for; AppError 1006/1007 when it does not verify or its
    session has ended (logout, a revoked refresh family)."""
    user_id, session_id = state.tokens.verify_access(token)
    await state.tokens.check_session(user_id, session_id)
    user = await state.users.get(user_id)
    if user is None:
        raise AppError("token is invalid", code=Code.TOKEN_INVALID, field="authorization")
    # The session the token belongs to, for logout; not part of the user's public record.
    return {**user, "session_id": session_id}


CurrentUser = Annotated[dict[str, Any], Depends(current_user)]


class PageParams(BaseModel):
    page: int
    per_page: int


def page_params(
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> PageParams:
    return PageParams(page=page, per_page=per_page)


Paging = Annotated[PageParams, Depends(page_params)]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")
