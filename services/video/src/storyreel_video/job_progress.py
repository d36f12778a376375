"""An encode's progress as task progress, throttled: every report is a store write and an
event, while ffmpeg reports many times a second."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from storyreel_core.bus.job_runner import JobContext


def percent_reporter(
    ctx: JobContext, step: str, *, every: int = 5
) -> Callable[[float], Awaitable[None]]:
    """A callback for a 0..1 fraction that reports whole percents, `every` points apart."""
    last = -1

    async def report(fraction: float) -> None:
        nonlocal last
        percent = int(fraction * 100)
        if percent >= last + every or percent == 100:
            last = percent
            await ctx.progress(percent, 100, step)

    return report
