"""API users (seed 003): integration accounts that an admin creates and that call with a key.

An API user is its own owner: everything it makes is scoped to its id (`apu_…`), as a person's
is to theirs. Documents in `api_users`: `username` (unique ignoring case and compatibility
forms, like people's), `display_name`, `description`, `quota_per_day`, `quota_per_month`
(None = no limit), `allowed_operations` (None = all; otherwise route tags, see
`OPERATIONS`), `is_active`, `key_hash` (HMAC-SHA256, `api_keys`), `key_id` (which generation
of key, so usage is kept per key), `key_created_at`, `last_used_at`, timestamps.

Usage is counted per key and per UTC day in `api_usage`: `{_id: "<user>:<key_id>:<day>",
api_user_id, key_id, day, requests, succeeded, failed}`, incremented by compare-and-set on the
document version so concurrent requests on several replicas are all counted.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, AppError, Code, NotFound, VersionConflict
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec
from storyreel_gateway.auth.api_keys import KeyHasher, looks_like_key, new_api_key
from storyreel_gateway.auth.user_store import identity_key

API_USERS = "api_users"
API_USAGE = "api_usage"
API_USER_KIND = "api_user"
# What `allowed_operations` may name: the OpenAPI tags of the routes (one per router).
OPERATIONS = (
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
)
_CAS_ATTEMPTS = 50


def key_invalid(message: str = "API key is invalid") -> AppError:
    return AppError(message, code=Code.TOKEN_INVALID, field="X-API-Key")


def today() -> str:
    """The UTC day usage is counted under, `YYYY-MM-DD`."""
    return datetime.now(UTC).date().isoformat()


def api_user_view(doc: dict[str, Any]) -> dict[str, Any]:
    """What an admin sees of an API user: never the key or its hash."""
    return {
        "id": doc["_id"],
        "username": doc["username"],
        "display_name": doc.get("display_name") or "",
        "description": doc.get("description") or "",
        "quota_per_day": doc.get("quota_per_day"),
        "quota_per_month": doc.get("quota_per_month"),
        "allowed_operations": doc.get("allowed_operations"),
        "is_active": bool(doc.get("is_active")),
        "created_at": doc["created_at"],
        "updated_at": doc.get("updated_at") or doc["created_at"],
        "key_created_at": doc.get("key_created_at"),
        "last_used_at": doc.get("last_used_at"),
    }


def acting_user(doc: dict[str, Any]) -> dict[str, Any]:
    """The identity a request made with the key acts as (what `CurrentUser` holds)."""
    return {
        "_id": doc["_id"],
        "username": doc["username"],
        "email": None,
        "role": API_USER_KIND,
        "created_at": doc["created_at"],
        "kind": API_USER_KIND,
        "session_id": None,
        "key_id": doc["key_id"],
        "allowed_operations": doc.get("allowed_operations"),
    }


class ApiUserStore:
    def __init__(self, docs: DocumentStore, hasher: KeyHasher) -> None:
        self.docs = docs
        self.hasher = hasher

    async def ensure_indexes(self) -> None:
        await self.docs.ensure_indexes(
            API_USERS,
            [
                IndexSpec(("username_key",), unique=True, name="ux_api_users_username_key"),
                IndexSpec(("key_hash",), unique=True, name="ux_api_users_key_hash"),
                IndexSpec(("is_active", "created_at")),
            ],
        )
        await self.docs.ensure_indexes(API_USAGE, [IndexSpec(("api_user_id", "day"))])

    async def create(self, fields: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """A new API user and its key (the only time the key exists outside the caller).
        `fields`: username, display_name, description, quota_per_day, quota_per_month,
        allowed_operations, is_active. AlreadyExists (409) for a taken username."""
        username = unicodedata.normalize("NFKC", fields["username"])
        username_key = identity_key(username)
        if await self.docs.find_one(API_USERS, {"username_key": username_key}) is not None:
            raise AlreadyExists("username already used by an API user", field="username")
        key, now = new_api_key(), utc_now()
        doc = {
            "_id": new_id("apu"),
            "username": username,
            "username_key": username_key,
            "display_name": fields.get("display_name") or "",
            "description": fields.get("description") or "",
            "quota_per_day": fields.get("quota_per_day"),
            "quota_per_month": fields.get("quota_per_month"),
            "allowed_operations": fields.get("allowed_operations"),
            "is_active": bool(fields.get("is_active", True)),
            "key_hash": self.hasher.digest(key),
            "key_id": new_id("key"),
            "key_created_at": now,
            "last_used_at": None,
            "created_at": now,
            "updated_at": now,
        }
        try:
            stored = await self.docs.insert(API_USERS, doc)
        except AlreadyExists as exc:  # a concurrent create of the same name won
            raise AlreadyExists("username already used by an API user", field="username") from exc
        return stored, key

    async def get(self, api_user_id: str) -> dict[str, Any]:
        doc = await self.docs.get(API_USERS, api_user_id)
        if doc is None:
            raise NotFound("API user not found", field="id")
        return doc

    async def list(
        self, is_active: bool | None, skip: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        flt = {} if is_active is None else {"is_active": is_active}
        items = await self.docs.find(
            API_USERS, flt, sort=[("created_at", 1)], skip=skip, limit=limit
        )
        return items, await self.docs.count(API_USERS, flt)

    async def update(self, api_user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Set the given fields (display_name, description, quotas, allowed_operations,
        is_active); NotFound (404) for an unknown id."""
        await self.get(api_user_id)
        return await self.docs.update(API_USERS, api_user_id, {**changes, "updated_at": utc_now()})

    async def regenerate(self, api_user_id: str) -> tuple[dict[str, Any], str]:
        """A new key; the old one stops working at once (its hash is gone)."""
        await self.get(api_user_id)
        key, now = new_api_key(), utc_now()
        changes = {
            "key_hash": self.hasher.digest(key),
            "key_id": new_id("key"),
            "key_created_at": now,
            "updated_at": now,
        }
        return await self.docs.update(API_USERS, api_user_id, changes), key

    async def authenticate(self, key: str) -> dict[str, Any]:
        """The active API user `key` belongs to; AppError 401 (1006) for an unknown,
        superseded or disabled key. The message never repeats the key."""
        if not looks_like_key(key):
            raise key_invalid()
        digest = self.hasher.digest(key)
        doc = await self.docs.find_one(API_USERS, {"key_hash": digest})
        if doc is None or not self.hasher.matches(key, str(doc["key_hash"])):
            raise key_invalid()
        if not doc.get("is_active"):
            raise key_invalid("API key is disabled")
        return doc

    async def record_use(self, api_user_id: str, key_id: str, succeeded: bool) -> None:
        """Count one request of the key today (`succeeded`: answered below 400)."""
        day = today()
        usage_id = f"{api_user_id}:{key_id}:{day}"
        outcome = "succeeded" if succeeded else "failed"
        for _attempt in range(_CAS_ATTEMPTS):
            doc = await self.docs.get(API_USAGE, usage_id)
            try:
                if doc is None:
                    fresh = {
                        "_id": usage_id,
                        "api_user_id": api_user_id,
                        "key_id": key_id,
                        "day": day,
                        "requests": 1,
                        "succeeded": int(succeeded),
                        "failed": int(not succeeded),
                    }
                    await self.docs.insert(API_USAGE, fresh)
                else:
                    changes = {"requests": doc["requests"] + 1, outcome: doc[outcome] + 1}
                    await self.docs.update(
                        API_USAGE, usage_id, changes, expected_version=int(doc["version"])
                    )
                break
            except (AlreadyExists, VersionConflict, NotFound):
                continue  # another request (maybe on another replica) counted first: again
        await self.docs.update(API_USERS, api_user_id, {"last_used_at": utc_now()})

    async def usage(self, api_user_id: str, days: int = 30) -> dict[str, Any]:
        """`usage_stats` (totals, the last `days` days, today) and `usage_by_day` (newest
        first; one row per day and key) of an API user."""
        rows = await self.docs.find(API_USAGE, {"api_user_id": api_user_id})
        now = datetime.now(UTC).date()
        since = (now - timedelta(days=days - 1)).isoformat()
        stats = {
            "total_requests": sum(r["requests"] for r in rows),
            "successful_requests": sum(r["succeeded"] for r in rows),
            "failed_requests": sum(r["failed"] for r in rows),
            f"last_{days}_days": sum(r["requests"] for r in rows if r["day"] >= since),
            "today": sum(r["requests"] for r in rows if r["day"] == now.isoformat()),
        }
        recent = sorted(
            (r for r in rows if r["day"] >= since), key=lambda r: (r["day"], r["key_id"])
        )
        by_day = [
            {
                "day": r["day"],
                "key_id": r["key_id"],
                "requests": r["requests"],
                "succeeded": r["succeeded"],
                "failed": r["failed"],
            }
            for r in reversed(recent)
        ]
        return {"usage_stats": stats, "usage_by_day": by_day}
