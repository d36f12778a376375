"""What a workflow tells its watchers (seed 001 §9), published on `events.workflows.<id>`.

Every gateway replica subscribes to `events.workflows.>` and hands each message to the
WebSocket clients of that workflow (`GET /api/v1/workflow/{id}/ws`). Messages:

- `progress` `{workflow_id, status, overall_progress, current_stage, stage_progress}` (0..1)
  whenever a stage starts, a stage task reports progress, or the workflow is paused/resumed;
- `stage_completed` `{workflow_id, stage, overall_progress}`;
- `stage_failed` `{workflow_id, stage, reason, code}`;
- `workflow_completed` `{workflow_id, status, drama_id, video{id, key, thumbnail_key,
  subtitle_key, duration}}` (the gateway adds signed `*_url`s);
- `workflow_failed` `{workflow_id, status` failed or cancelled`, stage, reason, code}`.

Each carries the document's `updated_at`. Events are best effort (the document is the truth);
a client that connects reads the current state first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from storyreel_core.logging import get_logger
from storyreel_core.workflow_models import STAGES

log = get_logger("storyreel.workflow.events")

Publish = Callable[[str, dict[str, Any]], Awaitable[None]]


def workflow_subject(workflow_id: str) -> str:
    return f"events.workflows.{workflow_id}"


def finished_fraction(doc: dict[str, Any], current: float) -> float:
    """Overall 0..1: finished stages whole, the current one by `current`."""
    done = sum(1 for s in STAGES if doc["stages"][s]["status"] == "completed")
    stage = doc.get("current_stage")
    running = stage and doc["stages"][stage]["status"] != "completed"
    return round(min(1.0, (done + (current if running else 0.0)) / len(STAGES)), 4)


class WorkflowEvents:
    def __init__(self, publish: Publish) -> None:
        self.publish = publish

    async def _send(self, doc: dict[str, Any], kind: str, data: dict[str, Any]) -> None:
        message = {
            "type": kind,
            "workflow_id": doc["_id"],
            "data": {"workflow_id": doc["_id"], **data, "updated_at": doc.get("updated_at")},
        }
        try:
            await self.publish(workflow_subject(doc["_id"]), message)
        except Exception as exc:  # best effort: watchers read the document on connect
            log.warning("workflow.event.publish_failed", workflow_id=doc["_id"], error=repr(exc))

    async def progress(self, doc: dict[str, Any], stage_progress: float) -> None:
        await self._send(
            doc,
            "progress",
            {
                "status": doc["status"],
                "overall_progress": finished_fraction(doc, stage_progress),
                "current_stage": doc["current_stage"],
                "stage_progress": round(stage_progress, 4),
            },
        )

    async def stage_completed(self, doc: dict[str, Any], stage: str) -> None:
        await self._send(
            doc,
            "stage_completed",
            {"stage": stage, "overall_progress": finished_fraction(doc, 0.0)},
        )

    async def stage_failed(self, doc: dict[str, Any], stage: str) -> None:
        error = doc.get("error") or {}
        await self._send(
            doc,
            "stage_failed",
            {"stage": stage, "reason": error.get("reason", ""), "code": error.get("code")},
        )

    async def workflow_completed(self, doc: dict[str, Any]) -> None:
        await self._send(
            doc,
            "workflow_completed",
            {
                "status": "completed",
                "overall_progress": 1.0,
                "drama_id": doc["drama_id"],
                "video": doc["outputs"].get("video") or {},
            },
        )

    async def workflow_failed(self, doc: dict[str, Any]) -> None:
        error = doc.get("error") or {}
        reason = error.get("reason") or (
            "cancelled by its owner" if doc["status"] == "cancelled" else ""
        )
        await self._send(
            doc,
            "workflow_failed",
            {
                "status": doc["status"],
                "stage": error.get("stage") or doc["current_stage"],
                "reason": reason,
                "code": error.get("code"),
            },
        )
