"""Run one coroutine per item, a few at a time, and keep the results in the items' order.

The frames job draws each shot with CPU work that releases the GIL (Pillow's resampling and
zlib, numpy), so drawing as many shots at once as there are cores finishes the stage about
that many times sooner. `asyncio.TaskGroup` cancels the siblings when one item fails; its
`ExceptionGroup` is unwrapped so callers see the first failure as it was raised (the job
runner tells a cancelled job from a failed one by the exception's type).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def map_bounded(
    items: Sequence[T], work: Callable[[int, T], Awaitable[R]], limit: int
) -> list[R]:
    """[await work(i, item) for each item], at most `limit` running at once."""
    slots = asyncio.Semaphore(max(1, limit))

    async def one(i: int, item: T) -> R:
        async with slots:
            return await work(i, item)

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(i, item)) for i, item in enumerate(items)]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]
