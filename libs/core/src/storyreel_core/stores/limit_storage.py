"""Counters of the `limits` rate limiter kept in the `DocumentStore`, so every replica shares them.

`limits` (a well-kept rate-limiting library) ships storages for memory, Redis, Memcached and
MongoDB (through motor). The platform already has a document store that every gateway replica
shares (MongoDB in distributed mode, SQLite in the single embedded process), so the counters
live there: one document per limit key, `{"_id": key, "count": n, "expires_at": unix s}` in
the `rate_limits` collection. Increments are compare-and-set on the document's version, so
concurrent hits from several replicas are all counted. This storage supports the fixed-window
strategy (`limits.aio.strategies.FixedWindowRateLimiter`).
"""

from __future__ import annotations

import time

from limits.aio.storage import Storage

from storyreel_core.errors import AlreadyExists, NotFound, VersionConflict
from storyreel_core.stores.document_store import DocumentStore

RATE_LIMITS = "rate_limits"
_CAS_ATTEMPTS = 50


class DocumentLimitStorage(Storage):
    """A `limits.aio` storage over a `DocumentStore` (fixed windows)."""

    STORAGE_SCHEME = ["storyreel+documents"]  # noqa: RUF012 (the base declares it so)

    def __init__(self, docs: DocumentStore, collection: str = RATE_LIMITS) -> None:
        super().__init__()
        self.docs = docs
        self.collection = collection

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (OSError, RuntimeError)

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to the counter of `key` and return it; a counter past its expiry starts
        again from zero with a new window of `expiry` seconds."""
        for _attempt in range(_CAS_ATTEMPTS):
            now = time.time()
            doc = await self.docs.get(self.collection, key)
            try:
                if doc is None:
                    fresh = {"_id": key, "count": amount, "expires_at": now + expiry}
                    await self.docs.insert(self.collection, fresh)
                    return amount
                if float(doc["expires_at"]) <= now:
                    changes = {"count": amount, "expires_at": now + expiry}
                else:
                    changes = {"count": int(doc["count"]) + amount}
                await self.docs.update(
                    self.collection, key, changes, expected_version=int(doc["version"])
                )
                return int(changes["count"])
            except (AlreadyExists, VersionConflict, NotFound):
                continue  # another hit (maybe on another replica) won this round: read again
        raise RuntimeError(f"rate limit counter {key!r} is too contended")

    async def get(self, key: str) -> int:
        doc = await self.docs.get(self.collection, key)
        if doc is None or float(doc["expires_at"]) <= time.time():
            return 0
        return int(doc["count"])

    async def get_expiry(self, key: str) -> float:
        """When the window of `key` ends (unix seconds); now when there is none."""
        doc = await self.docs.get(self.collection, key)
        now = time.time()
        if doc is None or float(doc["expires_at"]) <= now:
            return now
        return float(doc["expires_at"])

    async def check(self) -> bool:
        try:
            await self.docs.get(self.collection, "storage_check")  # one read by id, not a count
        except Exception:
            return False
        return True

    async def reset(self) -> int | None:
        return await self.docs.delete_many(self.collection, {})

    async def clear(self, key: str) -> None:
        await self.docs.delete(self.collection, key)
