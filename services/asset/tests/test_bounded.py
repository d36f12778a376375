"""`map_bounded`: results in the items' order, never more than `limit` at once, and the first
failure raised as itself with the other items cancelled."""

from __future__ import annotations

import asyncio

import pytest

from storyreel_asset.bounded import map_bounded


async def test_keeps_order_and_limit() -> None:
    running = peak = 0

    async def work(i: int, item: str) -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01 * (5 - i))  # later items finish first
        running -= 1
        return item.upper()

    assert await map_bounded(list("abcde"), work, 2) == list("ABCDE")
    assert peak == 2


async def test_first_failure_is_raised_as_itself_and_the_rest_cancelled() -> None:
    cancelled: list[int] = []

    async def work(i: int, _: int) -> int:
        if i == 1:
            raise LookupError("no such shot")
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(i)
            raise
        return i

    with pytest.raises(LookupError, match="no such shot"):
        await asyncio.wait_for(map_bounded([0, 1, 2], work, 3), timeout=2)
    assert sorted(cancelled) == [0, 2]


async def test_empty() -> None:
    async def work(i: int, item: int) -> int:
        return item

    assert await map_bounded([], work, 4) == []
