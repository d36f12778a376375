"""`/auth/*` and `/users/me`: register, login by username or email, rotate, log out, and the
admin login (seed 003). Requests also take seed 004's names (`email` to log in, `refreshToken`)."""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import AliasChoices, BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from storyreel_core.errors import AppError, Code
from storyreel_gateway.auth.password_policy import MAX_LENGTH, MIN_LENGTH
from storyreel_gateway.auth.roles import is_admin
from storyreel_gateway.auth.user_store import (
    EMAIL_PATTERN,
    USERNAME_PATTERN,
    identity_key,
    public_user,
)
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.json_body import CheckedRoute

router = APIRouter(route_class=CheckedRoute, tags=["auth"], responses=ERROR_RESPONSES)


class RegisterBody(BaseModel):
    username: str = Field(
        min_length=3,
        max_length=32,
        pattern=USERNAME_PATTERN,
        description=(
            "3-32 letters, digits, '_', '.' or '-'; unique ignoring case and Unicode "
            "compatibility forms (NFKC + casefold)"
        ),
    )
    email: str = Field(
        min_length=3,
        max_length=254,
        pattern=EMAIL_PATTERN,
        description="unique like the username",
    )
    password: str = Field(
        min_length=MIN_LENGTH,
        max_length=MAX_LENGTH,
        description=(
            "NIST SP 800-63B: 8-256 characters, no composition rules; a common, guessable or "
            "breached-style password (zxcvbn score below 2 of 4, or built from the username or "
            "email) is refused with 400"
        ),
    )

    @field_validator("username", "email", mode="before")
    @classmethod
    def compatibility_forms(cls, value: object) -> object:
        """NFKC first, so full-width `Ａｌｉｃｅ` meets the pattern as `Alice` (and then 409s
        against an existing Alice instead of a 400)."""
        return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


class LoginBody(BaseModel):
    username: str | None = Field(
        default=None, min_length=1, max_length=254, description="username or email"
    )
    email: str | None = Field(
        default=None,
        min_length=1,
        max_length=254,
        description="seed 004's login field; the same as sending it as `username`",
    )
    password: str = Field(min_length=1, max_length=256)
    device_info: str | None = Field(
        default=None,
        max_length=200,
        validation_alias=AliasChoices("device_info", "deviceInfo"),
        description="seed 003's optional device label (not stored)",
    )

    @model_validator(mode="after")
    def one_login(self) -> LoginBody:
        if not (self.username or self.email):
            raise PydanticCustomError("missing", "username or email is required")
        return self

    @property
    def login(self) -> str:
        """The name the account is looked up by: `username`, else `email`."""
        return self.username or self.email or ""


class RefreshBody(BaseModel):
    refresh_token: str = Field(
        min_length=1,
        max_length=512,
        validation_alias=AliasChoices("refresh_token", "refreshToken"),
        description="also `refreshToken` (seed 004)",
    )


class UserOut(BaseModel):
    id: str
    username: str
    email: str | None
    role: Literal["user", "admin", "api_user"] = Field(
        description="admin: may use the admin-only routes; api_user: calling with X-API-Key"
    )
    created_at: str


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str


class RegisterOut(TokensOut):
    user: UserOut


class AdminLoginOut(TokensOut):
    user: UserOut


@router.post("/auth/register", status_code=201, response_model=Envelope[RegisterOut])
async def register(body: RegisterBody, state: State) -> dict[str, Any]:
    user = await state.users.register(body.username, body.email, body.password)
    tokens = await state.tokens.issue(user["_id"])
    return ok({**tokens.as_dict(), "user": public_user(user)})


@router.post("/auth/login", response_model=Envelope[TokensOut])
async def login(body: LoginBody, request: Request, state: State) -> dict[str, Any]:
    """By `username` or `email` (either holds a username or an email). Throttled per account
    and per client address: past the limit, 429 (code 1005) with `Retry-After`, before the
    password is checked."""
    user = await _authenticate(body, request, state)
    return ok((await state.tokens.issue(user["_id"])).as_dict())


@router.post("/auth/admin/login", response_model=Envelope[AdminLoginOut])
async def admin_login(body: LoginBody, request: Request, state: State) -> dict[str, Any]:
    """Seed 003's admin login: the same check and throttle as `/auth/login`, and a token only
    for an admin (`role: "admin"`, e.g. the one `STORYREEL_ADMIN_USERNAME` configures); any
    other account gets 403 (1004) after its password was checked."""
    user = await _authenticate(body, request, state)
    if not is_admin(user):
        raise AppError("this login is for administrators", code=Code.FORBIDDEN, field="username")
    tokens = await state.tokens.issue(user["_id"])
    return ok({**tokens.as_dict(), "user": public_user(user)})


async def _authenticate(body: LoginBody, request: Request, state: State) -> dict[str, Any]:
    account = identity_key(body.login)
    address = request.client.host if request.client else "unknown"
    await state.throttle.attempt(account, address)
    user = await state.users.authenticate(body.login, body.password)
    await state.throttle.succeeded(account)
    return user


@router.post("/auth/refresh", response_model=Envelope[TokensOut])
async def refresh(body: RefreshBody, state: State) -> dict[str, Any]:
    return ok((await state.tokens.rotate(body.refresh_token)).as_dict())


@router.post("/auth/logout", response_model=Envelope[None])
async def logout(body: RefreshBody, state: State, user: CurrentUser) -> dict[str, Any]:
    """Ends the session: the refresh token's family is revoked, and the access token used
    here (and every other of its session) is refused from the next request on."""
    if user.get("session_id") is None:
        raise AppError(
            "an API key has no session to log out; an admin disables or regenerates it",
            code=Code.VALIDATION,
            field="X-API-Key",
        )
    await state.tokens.revoke(body.refresh_token, user["_id"])
    await state.tokens.end_session(user["session_id"])
    return ok(None)


@router.get("/auth/me", response_model=Envelope[UserOut])
@router.get("/users/me", response_model=Envelope[UserOut])
async def me(user: CurrentUser) -> dict[str, Any]:
    """The caller: a person (`role` user or admin) or, with `X-API-Key`, the API user."""
    return ok(public_user(user))
