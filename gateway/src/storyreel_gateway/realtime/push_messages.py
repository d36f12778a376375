"""What realtime clients receive: seed 004's task messages, with our snake_case field names.

A task record becomes one message (every `data` also carries the record's `updated_at`):

- `{"type": "task.progress", "task_id", "data": {"status", "progress": <percent 0-100>,
  "current_step", "details": {total, completed, …}, "current_item"}}` while it is pending or
  running;
- `{"type": "task.completed", "task_id", "data": {"status", "result"}}` once (media keys in the
  result come with signed URLs, as in `GET /tasks/{id}`);
- `{"type": "task.failed", "task_id", "data": {"status", "error", "reason", "code"}}` once, for a
  failed or cancelled task (`status` tells which).

`TaskOrder` keeps one client's view of a task monotonic: an event older than one already sent
(records carry `updated_at`, ISO-8601 with milliseconds, which compares as text) or arriving
after the terminal message is dropped, so a client never sees progress after completion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storyreel_core.task_store import TERMINAL

Message = dict[str, Any]


def task_message(view: dict[str, Any], sign: Callable[[Any], Any]) -> Message:
    """`view` is a task view (`task_store.task_view` shape); `sign` adds media URLs."""
    status = view.get("status")
    task_id = view.get("task_id")
    if status == "completed":
        return {
            "type": "task.completed",
            "task_id": task_id,
            "data": {
                "status": status,
                "result": sign(view.get("result")),
                "updated_at": view.get("updated_at"),
            },
        }
    if status in ("failed", "cancelled"):
        error = view.get("error") or {}
        reason = error.get("reason") or ("cancelled by its owner" if status == "cancelled" else "")
        return {
            "type": "task.failed",
            "task_id": task_id,
            "data": {
                "status": status,
                "error": f"task {status}",
                "reason": reason,
                "code": error.get("code"),
                "updated_at": view.get("updated_at"),
            },
        }
    progress = view.get("progress") or {}
    return {
        "type": "task.progress",
        "task_id": task_id,
        "data": {
            "status": status,
            "progress": progress.get("percentage", 0.0),
            "current_step": view.get("current_step"),
            "details": progress,
            "current_item": view.get("current_item"),
            "updated_at": view.get("updated_at"),
        },
    }


class TaskOrder:
    """Per client: the newest `updated_at` sent for each task, and which tasks are finished."""

    def __init__(self) -> None:
        self._last: dict[str, str] = {}
        self._finished: set[str] = set()

    def admit(self, view: dict[str, Any]) -> bool:
        task_id = str(view.get("task_id"))
        if task_id in self._finished:
            return False
        stamp = str(view.get("updated_at") or "")
        if stamp and stamp < self._last.get(task_id, ""):
            return False
        self._last[task_id] = stamp
        if view.get("status") in TERMINAL:
            self._finished.add(task_id)
        return True

    def forget(self, task_id: str) -> None:
        self._last.pop(task_id, None)
        self._finished.discard(task_id)
