"""Cancel a task and the unfinished tasks it started, and say so on `events.tasks.<id>`.

A cancel is a write to the task record (`TaskStore.cancel`). Announcing it as the workers
announce every other change (`task_view` on the task's subject, core NATS) lets the worker
running the job stop at once (`JobRunner` listens on its task's subject and otherwise only
looks at the record every few seconds) and lets realtime clients see the cancel of a task no
worker holds yet (a pending one), which nothing else would publish.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from storyreel_core.bus.job_runner import task_event_subject
from storyreel_core.errors import NotFound
from storyreel_core.logging import get_logger
from storyreel_core.task_store import TASKS, TERMINAL, TaskStore, task_view

log = get_logger(__name__)

PublishEvent = Callable[[str, dict[str, Any]], Awaitable[None]]
"""`JetStreamBus.publish_event`: (subject, payload)."""


async def announce(publish: PublishEvent, doc: dict[str, Any]) -> None:
    """Publish a task's record on its subject. Best effort: a lost event costs a worker one
    look at the record (its safety net), never the cancel itself."""
    try:
        await publish(task_event_subject(doc["_id"]), task_view(doc))
    except Exception as exc:
        log.warning("tasks.event.unpublished", task_id=doc["_id"], error=str(exc))


async def cancel_task_tree(
    tasks: TaskStore, publish: PublishEvent, task_id: str, owner_id: str
) -> dict[str, Any]:
    """Cancel `task_id` (the caller's: NotFound otherwise) and each unfinished task it started
    (a final cut's segments, a storyboard image's frames), announcing every record that turned
    cancelled. Returns the task's record; a task already finished is returned as it is."""
    doc = await tasks.cancel(task_id, owner_id)
    if doc["status"] == "cancelled":
        await announce(publish, doc)
    for child in await tasks.docs.find(TASKS, {"parent_id": task_id}):
        if child["status"] in TERMINAL:
            continue
        with contextlib.suppress(NotFound):  # deleted meanwhile: nothing left to stop
            cancelled = await tasks.cancel(child["_id"], owner_id)
            if cancelled["status"] == "cancelled":
                await announce(publish, cancelled)
    return doc
