"""The workflow state machine on a real SQLite store and task store.

The services are not started here: `RecordingStarter` plays their part at the port the machine
talks to (`StageStarter`) the way each studio start RPC does it — it creates the task record
with the id and parent the workflow asked for, and a second start of the same id creates
nothing. The tests then end those tasks as workers would and hand the machine each task's
event, as the durable consumer does (`test_stage_events.py` runs that consumer on a real
nats-server; `tests/test_workflow_e2e.py` runs everything for real).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storyreel_core.errors import AlreadyExists, AppError, Code, ValidationFailed
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_core.task_store import TaskStore, task_view
from storyreel_core.workflow_models import STAGES
from storyreel_workflow.studio_stages import Target
from storyreel_workflow.workflow_machine import WorkflowMachine
from storyreel_workflow.workflow_store import WorkflowStore

OWNER, OTHER = "user_a", "user_b"


class RecordingStarter:
    def __init__(self, tasks: TaskStore) -> None:
        self.tasks = tasks
        self.boards = ["sb_1", "sb_2"]
        self.created: list[str] = []  # task ids, once per task actually created
        self.unavailable = 0  # the next n starts fail as a service that is down would
        self.refuse: str = ""  # a stage whose start the service refuses (400)

    async def create_drama(self, workflow: dict[str, Any]) -> str:
        return "drama_" + workflow["_id"].removeprefix("wf_")

    async def targets(self, workflow: dict[str, Any], stage: str) -> list[Target]:
        if stage == "assets":
            return [{"id": "char_1", "name": "Mei"}, {"id": "char_2", "name": "Lin"}]
        if stage in ("frames", "audio"):
            return [{"id": sb} for sb in self.boards]
        return [{"id": workflow["drama_id"]}]

    async def start(
        self, workflow: dict[str, Any], stage: str, target: Target, task_id: str
    ) -> None:
        if self.unavailable:
            self.unavailable -= 1
            raise AppError("service unavailable", code=Code.UNAVAILABLE)
        if stage == self.refuse:
            raise ValidationFailed("the drama has no storyboards to render", field="x")
        try:
            await self.tasks.create(
                kind=stage,
                service="studio",
                owner_id=workflow["owner_id"],
                payload={"target": target["id"]},
                parent_id=workflow["_id"],
                drama_id=workflow["drama_id"],
                task_id=task_id,
            )
        except AlreadyExists:
            return
        self.created.append(task_id)


RESULTS: dict[str, dict[str, Any]] = {
    "script": {"id": "script_1", "title": "T", "content": "text", "scenes": [{}, {}],
               "metadata": {"characters": [{"name": "Mei"}]}},
    "assets": {"images": [{"key": "k.png"}], "cost": 0.125},
    "storyboard": {"storyboards": [{"id": "sb_1"}, {"id": "sb_2"}]},
    "final": {"video": {"id": "video_1", "key": "final.mp4", "duration": 4.0}},
}  # fmt: skip


class Rig:
    def __init__(self, docs: Any, tasks: TaskStore) -> None:
        self.docs = docs
        self.tasks = tasks
        self.starter = RecordingStarter(tasks)
        self.messages: list[dict[str, Any]] = []
        self.task_events: list[dict[str, Any]] = []
        self.machine = self.restarted()

    def restarted(self) -> WorkflowMachine:
        """A new machine over the same store: what a restarted workflow process builds."""

        async def publish(subject: str, message: dict[str, Any]) -> None:
            if subject.startswith("events.tasks."):
                self.task_events.append(message)  # a stage task cancelled by the machine
            else:
                self.messages.append(message)

        return WorkflowMachine(WorkflowStore(self.docs), self.tasks, self.starter, publish)

    async def create(self, **preferences: Any) -> str:
        doc = await self.machine.store.create(
            owner_id=OWNER,
            name="wf",
            input_type="prompt",
            input_content="story",
            options={"preferences": preferences},
        )
        await self.machine.advance(doc["_id"])
        return str(doc["_id"])

    async def doc(self, wf: str) -> dict[str, Any]:
        return await self.machine.store.get(wf)

    async def stage_tasks(self, wf: str, stage: str) -> list[str]:
        return list((await self.doc(wf))["stages"][stage]["task_ids"])

    async def end(self, task_id: str, *, status: str = "completed", deliver: int = 1) -> None:
        """End a task as its worker would, and deliver its event `deliver` times."""
        task = await self.tasks.get(task_id)
        if status == "completed":
            doc = await self.tasks.complete(task_id, RESULTS.get(task["kind"], {}))
        else:
            doc = await self.tasks.fail(task_id, {"code": 2001, "reason": "boom"}, final=True)
        for _ in range(deliver):
            await self.machine.on_task_event(task_view(doc))

    async def finish_stage(self, wf: str, stage: str) -> None:
        for task_id in await self.stage_tasks(wf, stage):
            await self.end(task_id)

    def kinds(self) -> list[str]:
        return [m["type"] for m in self.messages]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    docs = await SqliteDocumentStore(tmp_path / "wf.db").connect()
    tasks = TaskStore(docs)
    await tasks.ensure_indexes()
    await WorkflowStore(docs).ensure_indexes()
    yield Rig(docs, tasks)
    await docs.close()


async def test_stages_advance_in_order_to_the_final_cut(rig: Rig) -> None:
    wf = await rig.create()
    for stage in STAGES:
        doc = await rig.doc(wf)
        assert doc["current_stage"] == stage and doc["status"] == "running"
        assert doc["stages"][stage]["status"] == "running"
        await rig.finish_stage(wf, stage)
    doc = await rig.doc(wf)
    assert doc["status"] == "completed"
    assert all(doc["stages"][s]["status"] == "completed" for s in STAGES)
    assert doc["outputs"]["script"]["id"] == "script_1"
    assert doc["outputs"]["storyboard_ids"] == ["sb_1", "sb_2"]
    assert doc["outputs"]["video"]["key"] == "final.mp4"
    assert [a["image_key"] for a in doc["outputs"]["assets"]] == ["k.png", "k.png"]
    # What each stage cost, for the budget the later stages share: two sheets at $0.125.
    assert doc["outputs"]["costs"] == {s: 0.25 if s == "assets" else 0.0 for s in STAGES}
    # One task per target, each created once: 1 + 2 characters + 1 + 2 frames + 2 audio + 1 + 1.
    assert len(rig.starter.created) == len(set(rig.starter.created)) == 10
    assert rig.kinds().count("stage_completed") == 7
    assert rig.kinds()[-1] == "workflow_completed"
    done = [m["data"]["stage"] for m in rig.messages if m["type"] == "stage_completed"]
    assert done == list(STAGES)


async def test_pause_holds_the_next_stage_and_resume_starts_the_first_unfinished(
    rig: Rig,
) -> None:
    wf = await rig.create()
    await rig.machine.pause(wf, OWNER)
    await rig.finish_stage(wf, "script")  # the running stage finishes…
    doc = await rig.doc(wf)
    assert doc["status"] == "paused"
    assert doc["stages"]["script"]["status"] == "completed"
    assert doc["stages"]["assets"]["status"] == "pending"  # …and nothing else starts
    assert len(rig.starter.created) == 1
    # A late duplicate of the event, or a restarted process's sweep, does not start it either.
    await rig.end((await rig.stage_tasks(wf, "script"))[0], deliver=0)
    await rig.restarted().sweep()
    assert len(rig.starter.created) == 1
    resumed = await rig.machine.resume(wf, OWNER)
    assert resumed["status"] == "running" and resumed["current_stage"] == "assets"
    assert len(await rig.stage_tasks(wf, "assets")) == 2
    assert len(rig.starter.created) == 3


async def test_a_review_point_pauses_after_its_stage(rig: Rig) -> None:
    wf = await rig.create(pause_after=["storyboard"])
    for stage in ("script", "assets", "storyboard"):
        await rig.finish_stage(wf, stage)
    doc = await rig.doc(wf)
    assert doc["status"] == "paused" and doc["stages"]["frames"]["task_ids"] == []
    rig.starter.boards = ["sb_1", "sb_2", "sb_3"]  # the owner added a shot meanwhile
    await rig.machine.resume(wf, OWNER)
    assert len(await rig.stage_tasks(wf, "frames")) == 3
    await rig.finish_stage(wf, "frames")
    assert (await rig.doc(wf))["current_stage"] == "audio"  # pauses once, at its point


async def test_a_failed_stage_fails_the_workflow_and_retry_runs_from_it(rig: Rig) -> None:
    wf = await rig.create()
    for stage in ("script", "assets", "storyboard"):
        await rig.finish_stage(wf, stage)
    first, second = await rig.stage_tasks(wf, "frames")
    await rig.end(first, status="failed")
    doc = await rig.doc(wf)
    assert doc["status"] == "failed"
    assert doc["error"] == {"stage": "frames", "reason": "boom", "code": 2001}
    assert (await rig.tasks.get(second))["status"] == "cancelled"  # its sibling is stopped
    # ... and told so at once: its worker stops on the event, not at its next look.
    assert [(e["task_id"], e["status"]) for e in rig.task_events] == [(second, "cancelled")]
    assert rig.kinds()[-2:] == ["stage_failed", "workflow_failed"]
    with pytest.raises(AlreadyExists):
        await rig.machine.resume(wf, OWNER)
    made = len(rig.starter.created)
    retried = await rig.machine.retry(wf, OWNER)
    assert retried["status"] == "running" and retried["error"] is None
    assert retried["current_stage"] == "frames"
    assert retried["stages"]["frames"]["attempt"] == 2
    again = await rig.stage_tasks(wf, "frames")
    assert set(again).isdisjoint({first, second})  # new tasks, earlier stages untouched
    assert len(rig.starter.created) == made + 2
    for stage in ("frames", "audio", "video", "final"):
        await rig.finish_stage(wf, stage)
    assert (await rig.doc(wf))["status"] == "completed"


async def test_redelivered_events_and_a_restart_reattach_without_starting_twice(
    rig: Rig,
) -> None:
    wf = await rig.create()
    (script,) = await rig.stage_tasks(wf, "script")
    await rig.end(script, deliver=3)  # at-least-once: the same event three times
    assert len(await rig.stage_tasks(wf, "assets")) == 2
    assert len(rig.starter.created) == 3
    # The workflow process is down while the assets finish; their events are not handled.
    for task_id in await rig.stage_tasks(wf, "assets"):
        await rig.tasks.complete(task_id, RESULTS["assets"])
    assert (await rig.doc(wf))["current_stage"] == "assets"
    restarted = rig.restarted()
    assert await restarted.sweep() == 1
    doc = await rig.doc(wf)
    assert doc["stages"]["assets"]["status"] == "completed"
    assert doc["current_stage"] == "storyboard" and doc["stages"]["storyboard"]["dispatched"]
    assert len(rig.starter.created) == 4


async def test_a_stage_recorded_but_not_started_is_started_on_the_next_look(rig: Rig) -> None:
    rig.starter.unavailable = 1
    doc = await rig.machine.store.create(
        owner_id=OWNER, name="wf", input_type="prompt", input_content="story", options={}
    )
    with pytest.raises(AppError):
        await rig.machine.advance(doc["_id"])
    doc = await rig.doc(doc["_id"])
    assert doc["stages"]["script"]["status"] == "running"
    assert not doc["stages"]["script"]["dispatched"] and rig.starter.created == []
    await rig.restarted().sweep()
    doc = await rig.doc(doc["_id"])
    assert doc["stages"]["script"]["dispatched"]
    assert rig.starter.created == doc["stages"]["script"]["task_ids"]


async def test_a_refused_start_fails_the_stage_with_the_services_reason(rig: Rig) -> None:
    rig.starter.refuse = "script"
    wf = await rig.create()
    doc = await rig.doc(wf)
    assert doc["status"] == "failed"
    assert doc["error"]["stage"] == "script" and "no storyboards" in doc["error"]["reason"]
    assert doc["error"]["code"] == int(Code.VALIDATION)


async def test_cancel_stops_the_running_stage_and_nothing_moves_after(rig: Rig) -> None:
    wf = await rig.create()
    for stage in ("script", "assets", "storyboard", "frames", "audio"):
        await rig.finish_stage(wf, stage)
    (video,) = await rig.stage_tasks(wf, "video")
    child = await rig.tasks.create(
        kind="segment", service="video", owner_id=OWNER, payload={}, parent_id=video
    )
    cancelled = await rig.machine.cancel(wf, OWNER)
    assert cancelled["status"] == "cancelled"
    assert cancelled["stages"]["video"]["status"] == "cancelled"
    assert (await rig.tasks.get(video))["status"] == "cancelled"
    assert (await rig.tasks.get(child["_id"]))["status"] == "cancelled"
    assert rig.messages[-1]["type"] == "workflow_failed"
    assert rig.messages[-1]["data"]["status"] == "cancelled"
    await rig.machine.on_task_event(task_view(await rig.tasks.get(video)))
    assert (await rig.doc(wf))["status"] == "cancelled"
    assert (await rig.doc(wf))["stages"]["final"]["status"] == "pending"
    with pytest.raises(AlreadyExists):
        await rig.machine.pause(wf, OWNER)


async def test_owners_only(rig: Rig) -> None:
    wf = await rig.create()
    for call in (rig.machine.pause, rig.machine.resume, rig.machine.cancel, rig.machine.retry):
        with pytest.raises(AppError) as info:
            await call(wf, OTHER)
        assert info.value.code == Code.NOT_FOUND
    assert (await rig.doc(wf))["status"] == "running"
