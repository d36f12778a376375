"""The render's own progress while its stages run: written when it changes, not at every read."""

from __future__ import annotations

from typing import Any

from storyreel_workflow.render_job import PhaseProgress


class RecordingContext:
    """Records what the render would write as its task's progress (`JobContext.progress`)."""

    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []

    async def progress(self, completed: int, total: int, step: str, **kwargs: Any) -> None:
        self.reports.append({"completed": completed, "total": total, "step": step, **kwargs})


def child(task_id: str, percent: float, status: str = "running", step: str = "") -> dict[str, Any]:
    return {
        "_id": task_id,
        "status": status,
        "progress": {"percentage": percent},
        "current_step": step,
    }


async def test_a_stage_read_again_unchanged_writes_nothing() -> None:
    ctx = RecordingContext()
    progress = PhaseProgress(ctx, finished=2, running=["frames", "speech"])  # type: ignore[arg-type]
    frames, speech = progress.relay("frames"), progress.relay("speech")
    await progress.report()
    for _ in range(3):  # the half-second polls of a stage that has not moved
        await frames(child("task_f", 0.0))
    await frames(child("task_f", 40.0))
    await frames(child("task_f", 40.0))
    await speech(child("task_s", 40.0))  # the other stage: another item, so a new message
    await speech(child("task_s", 40.0, step="speaking"))
    await speech(child("task_s", 40.0, step="speaking"))
    assert [(r["percentage"], (r["current_item"] or {}).get("task_id")) for r in ctx.reports] == [
        (40.0, None),
        (40.0, "task_f"),
        (48.0, "task_f"),
        (56.0, "task_s"),
        (56.0, "task_s"),
    ]
    assert ctx.reports[-1]["current_item"]["step"] == "speaking"
