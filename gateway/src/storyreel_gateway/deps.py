"""Dependencies as `Annotated` aliases: `State`, `CurrentUser`, `Paging`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from storyreel_core.errors import AppError, Code
from storyreel_gateway.state import GatewayState

_bearer = HTTPBearer(auto_error=False, description="JWT access token from /auth/login")


def get_state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


State = Annotated[GatewayState, Depends(get_state)]


async def current_user(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> dict[str, Any]:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AppError("authentication required", code=Code.TOKEN_INVALID, field="authorization")
    return await user_for_token(state, credentials.credentials)


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
