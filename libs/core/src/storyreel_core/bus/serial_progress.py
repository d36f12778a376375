"""Progress of concurrent work items, written to the task one report at a time.

The task document is updated with a compare-and-swap; dozens of items reporting at once make
it give up ("kept changing"). Used by the jobs that work through items side by side (frames,
speech).
"""

from __future__ import annotations

import asyncio
from typing import Any

from storyreel_core.bus.job_runner import JobContext


class SerialProgress:
    """Progress of concurrent shots, written one report at a time.

    The task document is updated with a compare-and-swap; dozens of shots reporting at once
    make it give up ("kept changing"). A step report (`optional`, a shot's fraction) is
    dropped while another report is being written; counts are always written.
    """

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.lock = asyncio.Lock()

    async def __call__(
        self,
        completed: int,
        total: int,
        step: str,
        *,
        current_item: dict[str, Any] | None = None,
        optional: bool = False,
    ) -> None:
        if optional and self.lock.locked():
            return
        async with self.lock:
            await self.ctx.progress(completed, total, step, current_item=current_item)
