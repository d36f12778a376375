"""Access tokens (short JWTs, HS256 pinned) and refresh tokens (opaque, rotated, one use).

A refresh token is stored only as its SHA-256; using one marks it spent and issues the next of
its family. Presenting a spent one means it was stolen or replayed: the whole family is revoked.

A family is one sign-in (a session): its record in `sessions` (`_id` = family id) says whether
it is revoked, and every access token names its family in the `sid` claim. Each request checks
that record (`check_session`), so logging out or revoking a family ends its access tokens at
once, not when they expire; a token without a live session is refused (401, code 1006).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, AppError, Code
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec

ALGORITHM = "HS256"
ISSUER = "storyreel"
REFRESH = "refresh_tokens"
SESSIONS = "sessions"


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

    def access_token(self, user_id: str, session_id: str) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id,
            "sid": session_id,
            "iss": ISSUER,
            "iat": now,
            "exp": now + self.access_ttl,
            "type": "access",
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def verify_access(self, token: str) -> tuple[str, str]:
        """(user id, session id) of a well-signed, unexpired access token; 401 otherwise.
        Whether the session is still live is `check_session`'s question."""
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
        if claims.get("type") != "access" or not isinstance(claims.get("sid"), str):
            raise token_invalid()
        return str(claims["sub"]), claims["sid"]

    async def check_session(self, user_id: str, session_id: str) -> None:
        """401 (1006) unless the session exists, belongs to the user and is not revoked."""
        session = await self.docs.get(SESSIONS, session_id)
        if session is None or session["user_id"] != user_id or session["revoked"]:
            raise token_invalid("token is invalid: its session has ended")

    async def _open_session(self, user_id: str, family_id: str) -> None:
        if await self.docs.get(SESSIONS, family_id) is not None:
            return
        session = {"_id": family_id, "user_id": user_id, "revoked": False, "created_at": utc_now()}
        with contextlib.suppress(AlreadyExists):  # opened by a concurrent rotation
            await self.docs.insert(SESSIONS, session)

    async def issue(self, user_id: str, family_id: str | None = None) -> TokenPair:
        """A new refresh token of `family_id` (or of a new session) and an access token."""
        family_id = family_id or new_id("fam")
        await self._open_session(user_id, family_id)
        refresh = secrets.token_urlsafe(32)
        await self.docs.insert(
            REFRESH,
            {
                "_id": _digest(refresh),
                "user_id": user_id,
                "family_id": family_id,
                "expires_at": time.time() + self.refresh_ttl,
                "used": False,
                "revoked": False,
                "created_at": utc_now(),
            },
        )
        return TokenPair(self.access_token(user_id, family_id), refresh, self.access_ttl)

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

    async def revoke(self, refresh: str, user_id: str | None = None) -> None:
        """Log out: revoke the refresh token's family (only the caller's own, when given)."""
        record = await self.docs.get(REFRESH, _digest(refresh))
        if record is not None and user_id in (None, record["user_id"]):
            await self.revoke_family(record["family_id"])

    async def end_session(self, session_id: str) -> None:
        """Log out the session an access token names: its family is revoked."""
        await self.revoke_family(session_id)

    async def revoke_family(self, family_id: str) -> None:
        """The session ends first (its access tokens stop at their next request), then every
        refresh token of the family is marked revoked."""
        if await self.docs.get(SESSIONS, family_id) is not None:
            await self.docs.update(SESSIONS, family_id, {"revoked": True})
        for doc in await self.docs.find(REFRESH, {"family_id": family_id}):
            if not doc["revoked"]:
                await self.docs.update(REFRESH, doc["_id"], {"revoked": True})
