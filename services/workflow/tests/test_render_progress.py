"""The render's own progress while its workflow runs: written when it changes, not at every look."""

from __future__ import annotations

from typing import Any

from storyreel_core.workflow_models import STAGES
from storyreel_workflow.render_job import ProgressMirror


class RecordingContext:
    """Records what the render would write as its task's progress (`JobContext.progress`)."""

    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []

    async def progress(self, completed: int, total: int, step: str, **kwargs: Any) -> None:
        self.reports.append({"completed": completed, "total": total, "step": step, **kwargs})


def workflow(stage: str, completed: int) -> dict[str, Any]:
    stages = {
        s: {"status": "completed" if i < completed else "pending"} for i, s in enumerate(STAGES)
    }
    return {"_id": "wf_1", "current_stage": stage, "stages": stages}


async def test_a_workflow_looked_at_again_unchanged_writes_nothing() -> None:
    ctx = RecordingContext()
    mirror = ProgressMirror(ctx)  # type: ignore[arg-type]
    frames = workflow("frames", 3)
    item = {"workflow_id": "wf_1", "stage": "frames", "task_id": "task_f"}
    for _ in range(3):  # the half-second looks at a stage that has not moved
        await mirror.report(frames, 40.0, item)
    await mirror.report(frames, 40.04, item)  # the same to the one decimal shown
    await mirror.report(frames, 48.0, item)
    await mirror.report(frames, 48.0, {**item, "step": "drawing 3/6"})  # a new step: new message
    audio = workflow("audio", 4)
    await mirror.report(audio, 56.0, {"workflow_id": "wf_1", "stage": "audio"})
    assert [(r["percentage"], r["completed"], r["step"]) for r in ctx.reports] == [
        (40.0, 3, "drawing frames"),
        (48.0, 3, "drawing frames"),
        (48.0, 3, "drawing frames"),
        (56.0, 4, "speaking lines"),
    ]
    assert ctx.reports[2]["current_item"]["step"] == "drawing 3/6"
