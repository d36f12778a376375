"""The workflow state machine: seed 001's stages run one after the other, advanced by events.

Each workflow document (`workflow_store`) says which stage is current and which tasks it runs.
`advance` is the one transition function, idempotent and safe to call at any time: it reads the
document and the stage's tasks (the task records are the truth) and

- starts a stage whose tasks are recorded but not yet started (a crash between the two);
- fails the workflow (stage + reason) when a stage task failed or was cancelled, cancelling the
  stage's other tasks;
- completes a stage whose tasks all completed, keeping what it produced (`outputs`), then, unless
  the workflow is paused, records the next stage's task ids and starts them; after `final` the
  workflow is completed.

It runs when a stage task of the workflow ends (its `events.tasks.<id>` event, read through a
durable JetStream consumer, see `stage_events`), after pause/resume/retry, and once for every
unfinished workflow when the service starts. A redelivered event, a second replica or a
restart only makes it look again: task ids are recorded before their tasks are started, and
every start with a recorded id is idempotent, so nothing runs twice.

Pause stops dispatching (the running stage finishes); resume continues from the first
unfinished stage; cancel cancels the running stage's tasks and their children (workers stop,
ffmpeg is killed); retry runs a failed (or cancelled) workflow again from the stage that did not
finish, with new task ids.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, AppError, Code, NotFound, VersionConflict
from storyreel_core.logging import get_logger
from storyreel_core.task_cancel import cancel_task_tree
from storyreel_core.task_store import TERMINAL, TaskStore
from storyreel_core.workflow_models import FINISHED, STAGES
from storyreel_workflow.studio_stages import (
    StageStarter,
    Target,
    stage_cost,
    stage_outputs,
    start_all,
)
from storyreel_workflow.workflow_events import Publish, WorkflowEvents
from storyreel_workflow.workflow_store import WorkflowStore, blank_stage

log = get_logger("storyreel.workflow")

MAX_CONFLICTS = 8
# Errors of a start call that no retry can fix: the stage fails at once. Others (a service
# that is down) leave the stage recorded but not started, for the next look.
PERMANENT = frozenset(
    {Code.VALIDATION, Code.NOT_FOUND, Code.EXISTS, Code.FORBIDDEN, Code.RATE_LIMITED}
)


def stage_task_id(workflow_id: str, stage: str, attempt: int, index: int) -> str:
    """`task_<workflow>_<stage><attempt>_<i>`: one id per target and run, in the id format."""
    return f"task_{workflow_id.removeprefix('wf_')}_{stage}{attempt}_{index}"


def stage_fraction(record: dict[str, Any], tasks: list[dict[str, Any]]) -> float:
    """0..1: a finished stage 1, a running one the mean of its tasks' percentages."""
    if record["status"] == "completed":
        return 1.0
    if record["status"] != "running" or not tasks:
        return 0.0
    done = [
        1.0
        if t["status"] == "completed"
        else float((t.get("progress") or {}).get("percentage") or 0.0) / 100.0
        for t in tasks
    ]
    return round(min(1.0, sum(done) / len(done)), 4)


def review_points(doc: dict[str, Any]) -> list[str]:
    """`options.preferences.pause_after`: stages after which the workflow pauses itself."""
    points = ((doc.get("options") or {}).get("preferences") or {}).get("pause_after") or []
    return [str(p) for p in points]


class WorkflowMachine:
    def __init__(
        self, store: WorkflowStore, tasks: TaskStore, starter: StageStarter, publish: Publish
    ) -> None:
        self.store = store
        self.tasks = tasks
        self.starter = starter
        self.publish = publish
        self.events = WorkflowEvents(publish)
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def _locked(self, workflow_id: str) -> AsyncIterator[None]:
        """One transition per workflow at a time in this process (replicas: versions)."""
        lock = self._locks.setdefault(workflow_id, asyncio.Lock())
        async with lock:
            yield
        if not lock.locked() and self._locks.get(workflow_id) is lock:
            del self._locks[workflow_id]

    async def _retrying(
        self, workflow_id: str, step: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
    ) -> dict[str, Any]:
        async with self._locked(workflow_id):
            for _ in range(MAX_CONFLICTS):
                doc = await self.store.get(workflow_id)
                try:
                    return await step(doc)
                except VersionConflict:
                    continue  # another replica moved it on: look again
            raise AppError(f"workflow {workflow_id} is busy; try again", code=Code.EXISTS)

    # ---- the transition function ---------------------------------------------------------

    async def advance(self, workflow_id: str) -> dict[str, Any]:
        return await self._retrying(workflow_id, self._advance)

    async def _advance(self, doc: dict[str, Any]) -> dict[str, Any]:
        while doc["status"] not in FINISHED:
            stage = doc["current_stage"]
            record = doc["stages"][stage] if stage else None
            if record is not None and record["status"] == "running":
                if not record["dispatched"]:
                    doc, started = await self._start(doc, stage)
                    if not started:
                        return doc
                    continue
                tasks = await self._tasks(record)
                ended = [t for t in tasks if t["status"] in ("failed", "cancelled")]
                if ended:
                    return await self._fail_stage(doc, stage, ended[0])
                if any(t["status"] != "completed" for t in tasks):
                    return doc
                record.update(status="completed", finished_at=utc_now(), reason="")
                doc["outputs"].update(stage_outputs(stage, record["targets"], tasks))
                # What it cost: the later stages share what the budget has left.
                doc["outputs"].setdefault("costs", {})[stage] = stage_cost(tasks)
                if stage in review_points(doc) and doc["status"] == "running":
                    doc["status"] = "paused"  # a review point: the owner resumes
                doc = await self.store.save(doc)
                await self.events.stage_completed(doc, stage)
                if doc["status"] == "paused":
                    await self._publish_progress(doc)
            doc = await self._next(doc)
            if doc["status"] == "paused":
                return doc
        return doc

    async def _next(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Record the next stage's tasks (not started yet), or complete the workflow."""
        pending = [s for s in STAGES if doc["stages"][s]["status"] != "completed"]
        if not pending:
            doc.update(status="completed", finished_at=utc_now())
            doc = await self.store.save(doc)
            await self.events.workflow_completed(doc)
            return doc
        if doc["status"] == "paused":
            return doc
        stage = pending[0]
        try:
            if not doc["drama_id"]:
                doc["drama_id"] = await self.starter.create_drama(doc)
                doc = await self.store.save(doc)  # kept before anything else can fail
            targets: list[Target] = await self.starter.targets(doc, stage)
        except AppError as exc:
            if exc.code not in PERMANENT:
                raise
            return await self._fail(doc, stage, exc.message, int(exc.code))
        record = doc["stages"][stage]
        attempt = int(record["attempt"]) + 1
        doc["stages"][stage] = {
            **blank_stage(),
            "status": "running",
            "targets": targets,
            "task_ids": [stage_task_id(doc["_id"], stage, attempt, i) for i in range(len(targets))],
            "attempt": attempt,
            "started_at": utc_now(),
        }
        doc.update(status="running", current_stage=stage)
        doc = await self.store.save(doc)  # ids recorded before anything starts
        log.info("workflow.stage.started", workflow_id=doc["_id"], stage=stage, tasks=len(targets))
        await self.events.progress(doc, 0.0)
        return doc

    async def _start(self, doc: dict[str, Any], stage: str) -> tuple[dict[str, Any], bool]:
        record = doc["stages"][stage]
        try:
            await start_all(self.starter, doc, stage, record["targets"], record["task_ids"])
        except AppError as exc:
            if exc.code not in PERMANENT:
                log.warning(
                    "workflow.stage.start_failed", workflow_id=doc["_id"], error=exc.message
                )
                raise
            # A start that was refused may have left siblings running: stop them.
            await self._cancel_tasks(doc["owner_id"], record["task_ids"])
            return await self._fail(doc, stage, exc.message, int(exc.code)), False
        record["dispatched"] = True
        return await self.store.save(doc), True

    async def _tasks(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        found = await self.tasks.get_many(record["task_ids"])  # one query for the stage
        # A task recorded and marked started, yet gone: the drama was deleted, or the store
        # lost it. The stage cannot finish.
        lost = {"status": "failed", "error": {"reason": "task lost"}}
        return [found.get(t) or {"_id": t, **lost} for t in record["task_ids"]]

    async def _fail_stage(
        self, doc: dict[str, Any], stage: str, task: dict[str, Any]
    ) -> dict[str, Any]:
        error = task.get("error") or {}
        if task["status"] == "cancelled":
            reason = f"{stage} task {task['_id']} was cancelled"
        else:
            reason = str(error.get("reason") or "unknown error")
        await self._cancel_tasks(doc["owner_id"], doc["stages"][stage]["task_ids"])
        return await self._fail(doc, stage, reason, int(error.get("code") or Code.GENERAL))

    async def _fail(
        self, doc: dict[str, Any], stage: str, reason: str, code: int
    ) -> dict[str, Any]:
        now = utc_now()
        doc["stages"][stage].update(status="failed", finished_at=now, reason=reason)
        doc.update(
            status="failed",
            current_stage=stage,
            finished_at=now,
            error={"stage": stage, "reason": reason, "code": code},
        )
        doc = await self.store.save(doc)
        log.warning("workflow.failed", workflow_id=doc["_id"], stage=stage, reason=reason)
        await self.events.stage_failed(doc, stage)
        await self.events.workflow_failed(doc)
        return doc

    async def _cancel_tasks(self, owner_id: str, task_ids: list[str]) -> None:
        """Cancel each unfinished task and the unfinished tasks it started (segments of a final
        cut, the frames child of a storyboard image): their workers stop, ffmpeg is killed."""
        for task_id in task_ids:
            with contextlib.suppress(NotFound):
                await cancel_task_tree(self.tasks, self.publish, task_id, owner_id)

    # ---- events from the stage tasks -----------------------------------------------------

    async def on_task_event(self, event: dict[str, Any]) -> None:
        """A task record changed (`events.tasks.<id>`): a workflow's stage task moves its
        workflow on when it ends and reports progress while it runs."""
        parent = event.get("parent_id")
        if not isinstance(parent, str) or not parent.startswith("wf_"):
            return
        try:
            if event.get("status") in TERMINAL:
                await self.advance(parent)
            else:
                await self.report_progress(parent)
        except NotFound:
            return  # the workflow went with its drama

    async def report_progress(self, workflow_id: str) -> None:
        doc = await self.store.get(workflow_id)
        if doc["status"] not in FINISHED:
            await self._publish_progress(doc)

    async def _publish_progress(self, doc: dict[str, Any]) -> None:
        stage = doc["current_stage"]
        record = doc["stages"][stage] if stage else None
        fraction = stage_fraction(record, await self._tasks(record)) if record else 0.0
        await self.events.progress(doc, fraction)

    async def sweep(self) -> int:
        """Look again at every unfinished workflow (start-up): what ended while no one was
        listening moves on now."""
        looked = 0
        for doc in await self.store.unfinished():
            try:
                await self.advance(doc["_id"])
            except Exception as exc:  # one bad workflow must not stop the others
                log.warning("workflow.sweep_failed", workflow_id=doc["_id"], error=repr(exc))
            looked += 1
        return looked

    # ---- what owners ask -----------------------------------------------------------------

    async def pause(self, workflow_id: str, owner_id: str) -> dict[str, Any]:
        await self.store.get(workflow_id, owner_id)

        async def step(doc: dict[str, Any]) -> dict[str, Any]:
            if doc["status"] == "paused":
                return doc
            if doc["status"] not in ("pending", "running"):
                raise AlreadyExists(
                    f"workflow {workflow_id} is {doc['status']}: only a pending or running "
                    "workflow is paused",
                    field="workflow_id",
                )
            doc["status"] = "paused"
            doc = await self.store.save(doc)
            await self._publish_progress(doc)
            return doc

        return await self._retrying(workflow_id, step)

    async def resume(self, workflow_id: str, owner_id: str) -> dict[str, Any]:
        await self.store.get(workflow_id, owner_id)

        async def step(doc: dict[str, Any]) -> dict[str, Any]:
            if doc["status"] in ("pending", "running"):
                return doc
            if doc["status"] != "paused":
                raise AlreadyExists(
                    f"workflow {workflow_id} is {doc['status']}: only a paused workflow is "
                    "resumed (retry a failed one)",
                    field="workflow_id",
                )
            doc["status"] = "running"
            doc = await self.store.save(doc)
            await self._publish_progress(doc)
            return await self._advance(doc)

        return await self._retrying(workflow_id, step)

    async def cancel(self, workflow_id: str, owner_id: str) -> dict[str, Any]:
        await self.store.get(workflow_id, owner_id)

        async def step(doc: dict[str, Any]) -> dict[str, Any]:
            if doc["status"] == "cancelled":
                return doc
            if doc["status"] in FINISHED:
                raise AlreadyExists(
                    f"workflow {workflow_id} is {doc['status']}: it cannot be cancelled",
                    field="workflow_id",
                )
            stage = doc["current_stage"]
            now = utc_now()
            if stage and doc["stages"][stage]["status"] == "running":
                doc["stages"][stage].update(status="cancelled", finished_at=now)
            doc.update(status="cancelled", finished_at=now)
            doc = await self.store.save(doc)  # first, so no event starts another stage
            if stage:
                await self._cancel_tasks(doc["owner_id"], doc["stages"][stage]["task_ids"])
            await self.events.workflow_failed(doc)
            return doc

        return await self._retrying(workflow_id, step)

    async def retry(self, workflow_id: str, owner_id: str) -> dict[str, Any]:
        await self.store.get(workflow_id, owner_id)

        async def step(doc: dict[str, Any]) -> dict[str, Any]:
            if doc["status"] not in ("failed", "cancelled"):
                raise AlreadyExists(
                    f"workflow {workflow_id} is {doc['status']}: only a failed or cancelled "
                    "workflow is retried",
                    field="workflow_id",
                )
            for stage in STAGES:
                record = doc["stages"][stage]
                if record["status"] in ("failed", "cancelled", "running"):
                    # Runs again from here with new task ids (attempt + 1).
                    record.update(status="pending", dispatched=False, reason="")
            doc.update(
                status="running",
                error=None,
                finished_at=None,
                retries=int(doc.get("retries") or 0) + 1,
            )
            doc = await self.store.save(doc)
            await self.events.progress(doc, 0.0)
            return await self._advance(doc)

        return await self._retrying(workflow_id, step)

    async def running_tasks(self, doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """The task records of each running stage, by stage (one query per running stage)."""
        return {
            stage: await self._tasks(doc["stages"][stage])
            for stage in STAGES
            if doc["stages"][stage]["status"] == "running"
        }

    async def progress(self, doc: dict[str, Any]) -> dict[str, float]:
        """Each stage's progress 0..1 (the running stage's from its tasks)."""
        return stage_fractions(doc, await self.running_tasks(doc))


def stage_fractions(
    doc: dict[str, Any], running: dict[str, list[dict[str, Any]]]
) -> dict[str, float]:
    """Each stage's progress 0..1, the running ones' from their task records (`running`, as
    `WorkflowMachine.running_tasks` reads them)."""
    return {stage: stage_fraction(doc["stages"][stage], running.get(stage, [])) for stage in STAGES}


def overall(fractions: dict[str, float]) -> float:
    return round(sum(fractions.values()) / len(STAGES), 4)
