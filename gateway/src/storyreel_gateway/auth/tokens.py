"""Access tokens (short JWTs, HS256 pinned) and refresh tokens (opaque, rotated, one use).

A refresh token is stored only as its SHA-256; using one marks it spent and issues the next of
its family. Presenting a spent one means it was stolen or replayed: the whole family is revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from storyreel_core.clock import utc_now
from storyreel_core.errors import AppError, Code
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec

ALGORITHM = "HS256"
ISSUER = "storyreel"
REFRESH = "refresh_tokens"


def token_invalid(message: str = "token is invalid") -> AppError:
    return AppError(message, code=Code.TOKEN_INVALID, field="authorization")


def token_expired() -> AppError:
    return AppError("token has expired", code=Code.TOKEN_EXPIRED, field="authorization")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
            "token_type": "Bearer",
        }


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    def __init__(self, docs: DocumentStore, secret: bytes, access_ttl: int, refresh_ttl: int):
        self.docs = docs
        self.secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(REFRESH, [IndexSpec(("family_id",))])

    def access_token(self, user_id: str) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id,
            "iss": ISSUER,
            "iat": now,
            "exp": now + self.access_ttl,
            "type": "access",
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify_access(self, token: str) -> str:
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise token_expired() from exc
        except jwt.InvalidTokenError as exc:
            raise token_invalid() from exc
        if claims.get("type") != "access":
            raise token_invalid()
        return str(claims["sub"])

    async def issue(self, user_id: str, family_id: str | None = None) -> TokenPair:
        refresh = secrets.token_urlsafe(32)
        await self.docs.insert(
            REFRESH,
            {
                "_id": _digest(refresh),
                "user_id": user_id,
                "family_id": family_id or new_id("fam"),
                "expires_at": time.time() + self.refresh_ttl,
                "used": False,
                "revoked": False,
                "created_at": utc_now(),
            },
        )
        return TokenPair(self.access_token(user_id), refresh, self.access_ttl)

    async def rotate(self, refresh: str) -> TokenPair:
        record = await self.docs.get(REFRESH, _digest(refresh))
        if record is None:
            raise token_invalid("refresh token is invalid")
        if record["used"] or record["revoked"]:
            await self.revoke_family(record["family_id"])
            raise token_invalid("refresh token was already used; its session is revoked")
        if record["expires_at"] < time.time():
            raise token_expired()
        try:
            await self.docs.update(
                REFRESH, record["_id"], {"used": True}, expected_version=record["version"]
            )
        except AppError as exc:  # a concurrent rotation won the race: treat as reuse
            await self.revoke_family(record["family_id"])
            raise token_invalid("refresh token was already used") from exc
        return await self.issue(record["user_id"], record["family_id"])

    async def revoke(self, refresh: str) -> None:
        record = await self.docs.get(REFRESH, _digest(refresh))
        if record is not None:
            await self.revoke_family(record["family_id"])

    async def revoke_family(self, family_id: str) -> None:
        for doc in await self.docs.find(REFRESH, {"family_id": family_id}):
            if not doc["revoked"]:
                await self.docs.update(REFRESH, doc["_id"], {"revoked": True})
