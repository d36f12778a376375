"""The `limits` fixed-window limiter on counters kept in the DocumentStore (every adapter)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from limits import parse
from limits.aio.strategies import FixedWindowRateLimiter

from storyreel_core.stores.limit_storage import DocumentLimitStorage


async def test_a_window_counts_hits_and_refuses_past_the_limit(document_store: Any) -> None:
    limiter = FixedWindowRateLimiter(DocumentLimitStorage(document_store))
    item = parse("3/minute")
    assert [await limiter.hit(item, "login", "alice") for _ in range(5)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert await limiter.test(item, "login", "bob")  # another key is untouched
    stats = await limiter.get_window_stats(item, "login", "alice")
    assert stats.remaining == 0
    assert time.time() < stats.reset_time <= time.time() + 60
    await limiter.clear(item, "login", "alice")
    assert await limiter.hit(item, "login", "alice")


async def test_concurrent_hits_are_all_counted(document_store: Any) -> None:
    """Compare-and-set: hits racing on one key (as from several replicas) lose none."""
    storage = DocumentLimitStorage(document_store)
    counts = await asyncio.gather(*(storage.incr("k", 60) for _ in range(20)))
    assert sorted(counts) == list(range(1, 21))
    assert await storage.get("k") == 20


async def test_an_expired_window_starts_again(document_store: Any) -> None:
    storage = DocumentLimitStorage(document_store)
    assert await storage.incr("k", 1) == 1
    assert await storage.incr("k", 1) == 2
    await asyncio.sleep(1.1)
    assert await storage.get("k") == 0
    assert await storage.incr("k", 1) == 1
    assert await storage.check()
    assert await storage.reset() == 1
    assert await storage.get("k") == 0
