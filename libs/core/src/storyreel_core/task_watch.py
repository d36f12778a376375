"""Wait for another service's task to end: woken by its `events.tasks.<id>`, checked against
the task record (the truth; an event may be missed), polled as a safety net."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.bus.job_runner import task_event_subject
from storyreel_core.cancellation import raise_if_cancelling
from storyreel_core.errors import NotFound
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


OnFinished = Callable[[dict[str, Any]], Awaitable[None]]


async def wait_for_tasks(
    bus: JetStreamBus,
    tasks: TaskStore,
    task_ids: Sequence[str],
    on_finished: OnFinished,
    *,
    poll_s: float = 2.0,
) -> dict[str, dict[str, Any]]:
    """Wait for every task of `task_ids` to end; their terminal records by id.

    As `wait_for_task`, for many tasks at once: one wake-up shared by their events and one
    query per look (`TaskStore.get_many`) for those still unfinished, instead of a waiter and
    a read per task every 0.5 s (16 segments of a cut made 32 reads a second, most of the
    store's load while a render encodes). Only an event that says a task ended wakes it
    (progress does not), and it looks every `poll_s` besides: for an event that was lost, or
    a task cancelled in the store (which publishes none). `on_finished` sees each record
    once, as it turns terminal, in the order they are noticed; an exception from it stops the
    wait. Raises NotFound when a task has no record (as `wait_for_task`: e.g. its drama was
    deleted).
    """
    pending = list(dict.fromkeys(task_ids))
    finished: dict[str, dict[str, Any]] = {}
    wake = asyncio.Event()

    async def on_event(event: dict[str, Any]) -> None:
        if event.get("status") in TERMINAL:
            wake.set()

    unsubscribes = await asyncio.gather(
        *(bus.subscribe(task_event_subject(task_id), on_event) for task_id in pending)
    )
    try:
        while pending:
            raise_if_cancelling()
            wake.clear()  # before the read: an event during it wakes the next wait
            found = await tasks.get_many(pending)
            for task_id in pending:
                doc = found.get(task_id)
                if doc is None:
                    raise NotFound(f"task {task_id} not found", field="task_id")
                if doc["status"] in TERMINAL:
                    finished[task_id] = doc
                    await on_finished(doc)
            pending = [t for t in pending if t not in finished]
            if pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), poll_s)
        return finished
    finally:
        for unsubscribe in unsubscribes:
            with contextlib.suppress(Exception):
                await unsubscribe()
