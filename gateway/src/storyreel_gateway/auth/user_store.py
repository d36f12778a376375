"""Users: unique username and email, passwords hashed with Argon2id (argon2-cffi).

A username and an email are each unique after Unicode NFKC normalisation and case folding
(`identity_key`): "Alice", "ALICE" and the full-width "Ａｌｉｃｅ" are one account, and so are
"Mei@Example.com" and "mei@example.com". The folded forms are stored beside the names as
`username_key` and `email_key` with unique indexes, and login looks up by them, so an account
answers to any of its spellings. The username is kept as typed (after NFKC) for display.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, AppError, Code, ValidationFailed
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec
from storyreel_gateway.auth.password_policy import check_password

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


def identity_key(value: str) -> str:
    """The form a username or email is compared in: NFKC, then Unicode case folding (the
    "compatibility caseless match" of Unicode §3.13, NFKC applied once more after folding)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())


def public_user(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "username": doc["username"],
        "email": doc.get("email"),
        "role": doc.get("role") or "user",
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
        await self._add_identity_keys()
        await self.docs.ensure_indexes(
            USERS,
            [
                IndexSpec(("username_key",), unique=True, name="ux_users_username_key"),
                IndexSpec(("email_key",), unique=True, name="ux_users_email_key"),
            ],
        )

    async def _add_identity_keys(self) -> None:
        """Accounts made before the folded keys existed get them. Two old accounts that fold to
        the same name (made when case still told them apart) keep working: the later one's key
        gets its id appended, so it stays unique and the earlier one owns the plain spelling."""
        for doc in await self.docs.find(USERS, {"username_key": None}, sort=[("created_at", 1)]):
            changes = {
                "username_key": identity_key(doc["username"]),
                "email_key": identity_key(doc.get("email") or doc["_id"]),
            }
            for name in ("username_key", "email_key"):
                if await self.docs.find_one(USERS, {name: changes[name]}) is not None:
                    changes[name] = f"{changes[name]}#{doc['_id']}"
            await self.docs.update(USERS, doc["_id"], changes)

    async def register(
        self, username: str, email: str, password: str, *, role: str = "user"
    ) -> dict[str, Any]:
        """A new account; ValidationFailed (400) for a malformed name or email or a refused
        password (see `password_policy`), AlreadyExists (409) when the name or the email is
        taken in any case or Unicode spelling. `role`: "user", or "admin" for the configured
        first admin (`admin_seed`); registration over HTTP always makes a user."""
        username = unicodedata.normalize("NFKC", username)
        email = unicodedata.normalize("NFKC", email).lower()
        if not _USERNAME.fullmatch(username):
            raise ValidationFailed(
                "username must be 3-32 letters, digits, '_', '.' or '-'", field="username"
            )
        if not _EMAIL.fullmatch(email) or len(email) > 254:
            raise ValidationFailed("email is not valid", field="email")
        await check_password(password, [username, email])
        username_key, email_key = identity_key(username), identity_key(email)
        for field, key in (("username", username_key), ("email", email_key)):
            if await self.docs.find_one(USERS, {f"{field}_key": key}) is not None:
                raise AlreadyExists(f"{field} already registered", field=field)
        password_hash = await asyncio.to_thread(_hasher.hash, password)
        doc = {
            "_id": new_id("usr"),
            "username": username,
            "username_key": username_key,
            "email": email,
            "email_key": email_key,
            "password_hash": password_hash,
            "role": role,
            "created_at": utc_now(),
        }
        try:
            return await self.docs.insert(USERS, doc)
        except AlreadyExists as exc:  # a concurrent registration of the same name won
            raise AlreadyExists("username or email already registered", field="username") from exc

    async def find_by_login(self, login: str) -> dict[str, Any] | None:
        """The account a login names: an email (it has an "@") or a username, any spelling."""
        field = "email_key" if "@" in login else "username_key"
        return await self.docs.find_one(USERS, {field: identity_key(login)})

    async def authenticate(self, login: str, password: str) -> dict[str, Any]:
        doc = await self.find_by_login(login)
        if doc is None:
            # Spend the same time as a real check so timing does not reveal who exists.
            await asyncio.to_thread(_verify, _DUMMY_HASH, password)
            raise bad_credentials()
        if not await asyncio.to_thread(_verify, doc["password_hash"], password):
            raise bad_credentials()
        return doc

    async def get(self, user_id: str) -> dict[str, Any] | None:
        return await self.docs.get(USERS, user_id)

    async def set_default_budget(self, user_id: str, budget: float | None) -> dict[str, Any]:
        """Store the user's default spending limit (US dollars; None removes it)."""
        return await self.docs.update(USERS, user_id, {"default_budget": budget})


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
