"""Conversions between stored documents and the proto messages both sides of a call share."""

from __future__ import annotations

import json
from typing import Any

from storyreel_core.proto.storyreel.v1 import common_pb2, tasks_pb2
from storyreel_core.task_store import task_view


def dumps(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def loads(text: str) -> Any:
    return json.loads(text) if text else None


def task_to_proto(doc: dict[str, Any]) -> tasks_pb2.Task:
    view = task_view(doc)
    progress = view["progress"] or {}
    return tasks_pb2.Task(
        task_id=view["task_id"],
        kind=view["kind"] or "",
        status=view["status"] or "",
        progress=tasks_pb2.TaskProgress(
            total=int(progress.get("total", 0)),
            completed=int(progress.get("completed", 0)),
            percentage=float(progress.get("percentage", 0.0)),
            processing=int(progress.get("processing", 0)),
            pending=int(progress.get("pending", 0)),
        ),
        current_step=view["current_step"] or "",
        current_item_json=dumps(view["current_item"]),
        result_json=dumps(view["result"]),
        error_json=dumps(view["error"]),
        attempts=int(view["attempts"] or 0),
        parent_id=view["parent_id"] or "",
        drama_id=view["drama_id"] or "",
        created_at=view["created_at"] or "",
        updated_at=view["updated_at"] or "",
        started_at=view["started_at"] or "",
        finished_at=view["finished_at"] or "",
    )


def task_from_proto(msg: tasks_pb2.Task) -> dict[str, Any]:
    p = msg.progress
    return {
        "task_id": msg.task_id,
        "kind": msg.kind,
        "status": msg.status,
        "progress": {
            "total": p.total,
            "completed": p.completed,
            "processing": p.processing,
            "pending": p.pending,
            "percentage": p.percentage,
        },
        "current_step": msg.current_step or None,
        "current_item": loads(msg.current_item_json),
        "result": loads(msg.result_json),
        "error": loads(msg.error_json),
        "attempts": msg.attempts,
        "parent_id": msg.parent_id or None,
        "drama_id": msg.drama_id or None,
        "created_at": msg.created_at or None,
        "updated_at": msg.updated_at or None,
        "started_at": msg.started_at or None,
        "finished_at": msg.finished_at or None,
    }


def task_ref(doc: dict[str, Any], estimated_time: int = 0) -> common_pb2.TaskRef:
    return common_pb2.TaskRef(
        task_id=doc["_id"], status=doc["status"], estimated_time=estimated_time
    )
