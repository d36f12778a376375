"""`/auth/*` and `/users/me`: register, login by username or email, rotate, log out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from storyreel_gateway.auth.user_store import EMAIL_PATTERN, USERNAME_PATTERN, public_user
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.json_body import CheckedRoute

router = APIRouter(route_class=CheckedRoute, tags=["auth"], responses=ERROR_RESPONSES)


class RegisterBody(BaseModel):
    username: str = Field(
        min_length=3,
        max_length=32,
        pattern=USERNAME_PATTERN,
        description="3-32 letters, digits, '_', '.' or '-'",
    )
    email: str = Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN)
    password: str = Field(min_length=8, max_length=256)


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=254, description="username or email")
    password: str = Field(min_length=1, max_length=256)


class RefreshBody(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class UserOut(BaseModel):
    id: str
    username: str
    email: str | None
    created_at: str


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str


class RegisterOut(TokensOut):
    user: UserOut


@router.post("/auth/register", status_code=201, response_model=Envelope[RegisterOut])
async def register(body: RegisterBody, state: State) -> dict[str, Any]:
    user = await state.users.register(body.username, body.email, body.password)
    tokens = await state.tokens.issue(user["_id"])
    return ok({**tokens.as_dict(), "user": public_user(user)})


@router.post("/auth/login", response_model=Envelope[TokensOut])
async def login(body: LoginBody, state: State) -> dict[str, Any]:
    user = await state.users.authenticate(body.username, body.password)
    return ok((await state.tokens.issue(user["_id"])).as_dict())


@router.post("/auth/refresh", response_model=Envelope[TokensOut])
async def refresh(body: RefreshBody, state: State) -> dict[str, Any]:
    return ok((await state.tokens.rotate(body.refresh_token)).as_dict())


@router.post("/auth/logout", response_model=Envelope[None])
async def logout(body: RefreshBody, state: State, _user: CurrentUser) -> dict[str, Any]:
    await state.tokens.revoke(body.refresh_token)
    return ok(None)


@router.get("/users/me", response_model=Envelope[UserOut])
@router.get("/auth/me", response_model=Envelope[UserOut], include_in_schema=False)
async def me(user: CurrentUser) -> dict[str, Any]:
    return ok(public_user(user))
