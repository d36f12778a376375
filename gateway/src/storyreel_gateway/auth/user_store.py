"""Users: unique username and email, passwords hashed with Argon2id (argon2-cffi)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, AppError, Code, ValidationFailed
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec

USERS = "users"
# Stated in the OpenAPI document as they are checked here (RegisterBody). Explicit classes, not
# `\s`: Python's, Rust's (pydantic) and ECMA's `\s` differ on control characters. Checked with
# fullmatch, as `$` in Python also matches before a trailing newline.
USERNAME_PATTERN = r"^[A-Za-z0-9_.\-]{3,32}$"
_ADDRESS_PART = r"[^@\x00-\x20\x7f]+"
EMAIL_PATTERN = rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}$"
_USERNAME = re.compile(USERNAME_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)
_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not tell who does.
_DUMMY_HASH = _hasher.hash("timing-equaliser")


def public_user(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "username": doc["username"],
        "email": doc.get("email"),
        "created_at": doc["created_at"],
    }


def bad_credentials() -> AppError:
    return AppError("wrong username or password", code=Code.TOKEN_INVALID, field="password")


class UserStore:
    def __init__(self, docs: DocumentStore) -> None:
        self.docs = docs

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(
            USERS,
            [
                IndexSpec(("username",), unique=True, name="ux_users_username"),
                IndexSpec(("email",), unique=True, name="ux_users_email"),
            ],
        )

    async def register(self, username: str, email: str, password: str) -> dict[str, Any]:
        if not _USERNAME.fullmatch(username):
            raise ValidationFailed(
                "username must be 3-32 letters, digits, '_', '.' or '-'", field="username"
            )
        if not _EMAIL.fullmatch(email):
            raise ValidationFailed("email is not valid", field="email")
        if not 8 <= len(password) <= 256:
            raise ValidationFailed("password must be 8-256 characters", field="password")
        password_hash = await asyncio.to_thread(_hasher.hash, password)
        doc = {
            "_id": new_id("usr"),
            "username": username,
            "email": email.lower(),
            "password_hash": password_hash,
            "created_at": utc_now(),
        }
        try:
            return await self.docs.insert(USERS, doc)
        except AlreadyExists as exc:
            raise AlreadyExists("username or email already registered", field="username") from exc

    async def authenticate(self, login: str, password: str) -> dict[str, Any]:
        field = "email" if "@" in login else "username"
        doc = await self.docs.find_one(USERS, {field: login.lower() if field == "email" else login})
        if doc is None:
            # Spend the same time as a real check so timing does not reveal who exists.
            await asyncio.to_thread(_verify, _DUMMY_HASH, password)
            raise bad_credentials()
        if not await asyncio.to_thread(_verify, doc["password_hash"], password):
            raise bad_credentials()
        return doc

    async def get(self, user_id: str) -> dict[str, Any] | None:
        return await self.docs.get(USERS, user_id)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
