"""Wait for another service's task to end: woken by its `events.tasks.<id>`, checked against
the task record (the truth; an event may be missed), polled as a safety net."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.bus.job_runner import task_event_subject
from storyreel_core.cancellation import raise_if_cancelling
from storyreel_core.task_store import TERMINAL, TaskStore

OnUpdate = Callable[[dict[str, Any]], Awaitable[None]]


async def wait_for_task(
    bus: JetStreamBus,
    tasks: TaskStore,
    task_id: str,
    on_update: OnUpdate,
    *,
    poll_s: float = 0.5,
) -> dict[str, Any]:
    """The task's record once it is terminal; `on_update` sees every record read on the way."""
    wake = asyncio.Event()
    unsubscribe = await bus.notify(task_event_subject(task_id), wake)
    try:
        while True:
            raise_if_cancelling()
            # Cleared before the read, not after: an event landing during the read must wake
            # the next wait, or the change it announces waits for the poll.
            wake.clear()
            doc = await tasks.get(task_id)
            await on_update(doc)
            if doc["status"] in TERMINAL:
                return doc
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), poll_s)
    finally:
        with contextlib.suppress(Exception):
            await unsubscribe()
