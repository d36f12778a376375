"""The `render` job: a one-click render is a workflow that advances on its own.

The job creates the render's workflow (`render_workflow.workflow_fields`, id from the task id)
and hands it to the workflow machine, which runs the studio stages on a drama of the owner's:
script → assets → storyboard → frames → audio → video → final, each advanced by its tasks'
events like any workflow. The job only watches: it mirrors the workflow's progress onto the
render task (the one its client polls and is pushed), and when the workflow completes, it
reads the result off the stages' tasks (`render_workflow.render_result`).

The job looks at its workflow when the workflow says something (`events.workflows.<id>`: a
stage started, a stage task moved, the workflow ended), and every `POLL_S` besides, in case an
event was lost: a cut that encodes for a minute costs a handful of reads, not two a second.

A redelivered render finds its workflow and watches again; a retried one (after a failure or
a cancel) retries the workflow, which runs again from the stage that did not finish. A
cancelled render cancels its workflow (`grpc_api.TaskServicer`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.errors import AppError, Code, NotFound
from storyreel_core.logging import get_logger
from storyreel_core.task_store import TaskStore
from storyreel_core.workflow_models import FINISHED, STAGES
from storyreel_workflow.render_options import RenderInput
from storyreel_workflow.render_workflow import (
    render_result,
    render_workflow_id,
    stage_results,
    workflow_fields,
)
from storyreel_workflow.workflow_events import workflow_subject
from storyreel_workflow.workflow_machine import WorkflowMachine, overall, stage_fractions

log = get_logger("storyreel.workflow.render")

# How often the job looks at its workflow when none of its events arrives (the workflow
# itself moves on task events, and says so on its own subject).
POLL_S = 2.0
# The render task's `current_step` while each stage runs (what the CLI shows).
STEP_NAMES = {
    "script": "writing screenplay",
    "assets": "designing characters",
    "storyboard": "planning storyboard",
    "frames": "drawing frames",
    "audio": "speaking lines",
    "video": "animating shots",
    "final": "composing video",
}


class StageFailed(AppError):
    """The workflow ended failed or cancelled; the render task fails with its stage's reason."""


class ProgressMirror:
    """The workflow's progress written onto the render task, when it changes.

    The job looks at its workflow on each of its events (and every `POLL_S`); a look that
    changes nothing the render shows (percentage to one decimal, as `progress_doc` keeps it,
    the step and the current item) is not written again, so watchers (200 WebSocket clients,
    say) get a message when the render moved, not on every look.
    """

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self._last: tuple[Any, ...] | None = None

    async def report(self, doc: dict[str, Any], percentage: float, item: dict[str, Any]) -> None:
        """`doc`: the workflow; `percentage`: 0..100 overall; `item`: the `current_item`."""
        stage = doc["current_stage"]
        step = STEP_NAMES.get(stage, "starting")
        shown = (round(percentage, 1), step, tuple(sorted(item.items())))
        if shown == self._last:
            return
        self._last = shown
        done = sum(1 for s in STAGES if doc["stages"][s]["status"] == "completed")
        await self.ctx.progress(
            done, len(STAGES), step, percentage=round(percentage, 2), current_item=item
        )


class RenderJob:
    def __init__(
        self,
        machine: WorkflowMachine,
        tasks: TaskStore,
        bus: JetStreamBus,
        *,
        poll_s: float = POLL_S,
    ):
        self.machine = machine
        self.tasks = tasks
        self.bus = bus
        self.poll_s = poll_s

    async def _workflow(self, job: Job) -> dict[str, Any]:
        """The render's workflow, created on the first delivery and moved on from there; a
        failed or cancelled one is retried (the render task is being retried)."""
        store = self.machine.store
        workflow_id = render_workflow_id(job.task_id)
        try:
            doc = await store.get(workflow_id, job.owner_id)
        except NotFound:
            fields = workflow_fields(RenderInput.model_validate(job.payload))
            doc = await store.create(owner_id=job.owner_id, workflow_id=workflow_id, **fields)
            log.info("render.workflow.created", task_id=job.task_id, workflow_id=workflow_id)
        if doc["status"] in ("failed", "cancelled"):
            return await self.machine.retry(workflow_id, job.owner_id)
        return await self.machine.advance(workflow_id)

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        # Subscribed before the workflow is read or moved on: no event after that read is lost.
        wake = asyncio.Event()
        unsubscribe = await self.bus.notify(workflow_subject(render_workflow_id(job.task_id)), wake)
        try:
            doc = await self._watch(await self._workflow(job), ctx, wake)
        finally:
            with contextlib.suppress(Exception):
                await unsubscribe()
        if doc["status"] != "completed":
            error = doc.get("error") or {}
            reason = error.get("reason") or f"the workflow was {doc['status']}"
            raise StageFailed(
                f"{error.get('stage') or 'render'} stage {doc['status']}: {reason}",
                code=Code(int(error.get("code") or Code.GENERAL)),
                permanent=True,
            )
        tasks = await self.tasks.get_many(
            [t for stage in STAGES for t in doc["stages"][stage]["task_ids"]]
        )
        return render_result(doc, stage_results(doc, tasks))

    async def _watch(
        self, doc: dict[str, Any], ctx: JobContext, wake: asyncio.Event
    ) -> dict[str, Any]:
        """Mirror the workflow onto the render task until it is finished; its last record."""
        mirror = ProgressMirror(ctx)
        while doc["status"] not in FINISHED:
            # One read of the running stage's tasks gives both its progress and its item.
            running = await self.machine.running_tasks(doc)
            stage = doc["current_stage"]
            item = {"workflow_id": doc["_id"], "stage": stage, "status": doc["status"]}
            if stage:
                item.update(current_item(running.get(stage, [])))
            await mirror.report(doc, overall(stage_fractions(doc, running)) * 100, item)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.poll_s)
            wake.clear()  # before the read: an event during it wakes the next wait
            try:
                doc = await self.machine.store.get(doc["_id"])
            except NotFound:
                raise StageFailed(
                    "the render's drama was deleted", code=Code.NOT_FOUND, permanent=True
                ) from None
        return doc


def current_item(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """The first unfinished task of the running stage (its records, in stage order), as the
    render's `current_item` names it: `task_id` (pollable) and its own `step` (e.g.
    "animating shots"); {} when none is pending or running."""
    for task in tasks:
        if task["status"] in ("pending", "running"):
            item = {"task_id": task["_id"]}
            if task.get("current_step"):
                item["step"] = task["current_step"]
            return item
    return {}
