"""Forget a task: its record, the tasks it started, its job's state, its staged materials."""

from __future__ import annotations

from typing import Any

from storyreel_core.logging import get_logger
from storyreel_core.stores.document_store import DocumentStore
from storyreel_core.stores.object_store import ObjectStore
from storyreel_core.task_store import TASKS, TaskStore

log = get_logger("storyreel.workflow.tasks")

# Collections where a job keeps resumable state under its task id.
JOB_STATE = ("renders", "material_videos", "pipeline_stage_tasks")
MAX_DEPTH = 4


def material_keys(doc: dict[str, Any], owner: str) -> list[str]:
    """Object keys of the materials the gateway staged for the task (`materials/<owner>/…`);
    a key outside the owner's prefix is never touched."""
    prefix = f"materials/{owner}/"
    items = (doc.get("payload") or {}).get("materials") or []
    keys = [str(m.get("key") or "") for m in items if isinstance(m, dict)]
    return [k for k in keys if k.startswith(prefix) and ".." not in k]


async def delete_task_tree(
    tasks: TaskStore,
    docs: DocumentStore | None,
    objects: ObjectStore | None,
    doc: dict[str, Any],
    owner: str,
) -> int:
    """Delete `doc`'s task, its descendants (stage tasks) and their job state; how many task
    records went. The caller has cancelled the unfinished ones first."""
    ids, frontier = [doc["_id"]], [doc["_id"]]
    for _ in range(MAX_DEPTH):
        children = []
        for parent in frontier:
            found = await tasks.docs.find(TASKS, {"parent_id": parent, "owner_id": owner})
            children += [c["_id"] for c in found]
        if not children:
            break
        ids += children
        frontier = children
    keys = material_keys(doc, owner)
    if objects is not None:
        for key in keys:
            await objects.delete(key)
    for task_id in reversed(ids):
        await tasks.docs.delete(TASKS, task_id)
        if docs is not None:
            for collection in JOB_STATE:
                await docs.delete(collection, task_id)
    log.info("task.deleted", task_id=doc["_id"], tasks=len(ids), materials=len(keys))
    return len(ids)
