"""The workflow's durable consumer of task events, on a real nats-server: a stage task that
ends while no workflow process listens still moves its workflow on once one is back."""

from __future__ import annotations

from pathlib import Path

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.bus.job_runner import task_event_subject
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_core.task_store import TaskStore, task_view
from storyreel_core.testing import eventually, start_nats
from storyreel_workflow.stage_events import StageEvents
from storyreel_workflow.workflow_machine import WorkflowMachine
from storyreel_workflow.workflow_store import WorkflowStore

from .test_workflow_machine import RESULTS, RecordingStarter


async def test_events_missed_while_down_are_delivered_after_a_restart(tmp_path: Path) -> None:
    server = await start_nats(tmp_path)
    docs = await SqliteDocumentStore(tmp_path / "wf.db").connect()
    bus = await JetStreamBus(server.url).connect()
    try:
        await bus.ensure_streams()
        tasks = TaskStore(docs)
        await tasks.ensure_indexes()
        store = WorkflowStore(docs)
        starter = RecordingStarter(tasks)
        machine = WorkflowMachine(store, tasks, starter, bus.publish_event)
        events = StageEvents(bus, machine, first_sweep_s=3600)
        await events.start()
        wf = await store.create(
            owner_id="u", name="wf", input_type="prompt", input_content="story", options={}
        )
        await machine.advance(wf["_id"])
        (script,) = (await store.get(wf["_id"]))["stages"]["script"]["task_ids"]
        done = await tasks.complete(script, RESULTS["script"])
        await bus.publish_event(task_event_subject(script), task_view(done))

        async def at(stage: str) -> bool:
            return bool((await store.get(wf["_id"]))["current_stage"] == stage)

        await eventually(lambda: at("assets"), timeout=10)
        await events.stop()  # the workflow process goes away…
        for task_id in (await store.get(wf["_id"]))["stages"]["assets"]["task_ids"]:
            finished = await tasks.complete(task_id, RESULTS["assets"])
            await bus.publish_event(task_event_subject(task_id), task_view(finished))
        await bus.nc.flush()
        assert await at("assets")  # …nobody moved it meanwhile
        back = StageEvents(bus, machine, first_sweep_s=3600)  # no sweep: only the consumer
        await back.start()
        try:
            await eventually(lambda: at("storyboard"), timeout=10)
        finally:
            await back.stop()
        # One start per task, whatever was delivered twice.
        assert len(starter.created) == len(set(starter.created)) == 4
    finally:
        await bus.close()
        await docs.close()
        server.stop()
