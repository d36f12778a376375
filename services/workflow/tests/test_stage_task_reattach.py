"""A seed 002 stage task's children (`stage_tasks.StageRun`) on a real nats-server and store:
a redelivered job re-attaches to the child it recorded instead of starting it again, reuses a
completed one, starts a failed one afresh, starts a recorded but never created one under its
recorded id, and finds what it remembered (the drama `/pipeline/storyboard` made)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.bus.job_runner import Job, JobContext, task_event_subject
from storyreel_core.errors import AppError
from storyreel_core.rpc.peers import PeerChannels
from storyreel_core.settings import Settings
from storyreel_core.stage_client import StageClient
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_core.task_store import TaskStore, task_view
from storyreel_core.testing import eventually, start_nats
from storyreel_workflow.stage_tasks import StageRun, StageTaskJob

OWNER = "user_reattach"


async def test_a_redelivered_stage_task_re_attaches_to_its_children(tmp_path: Path) -> None:
    server = await start_nats(tmp_path)
    docs = await SqliteDocumentStore(tmp_path / "wf.db").connect()
    bus = await JetStreamBus(server.url).connect()
    try:
        await bus.ensure_streams()
        tasks = TaskStore(docs)
        await tasks.ensure_indexes()
        # No channel is opened: the children are started by `start` below.
        handler = StageTaskJob(docs, StageClient(PeerChannels(Settings), tasks, bus))
        parent = await tasks.create(
            kind="pipeline_storyboard", service="workflow", owner_id=OWNER, payload={}, total=2
        )
        job = Job(parent["_id"], "pipeline_storyboard", OWNER, {}, attempt=1)
        started: list[str] = []

        async def start(child_id: str) -> None:
            """What a studio start RPC does with a named task id: create that task."""
            started.append(child_id)
            await tasks.create(
                kind="generate_script",
                service="script",
                owner_id=OWNER,
                payload={},
                parent_id=job.task_id,
                task_id=child_id,
            )

        async def delivery() -> StageRun:
            ctx = JobContext(job=job, tasks=tasks, publish=publish)
            return await handler.open_run(job, ctx, total=2)

        async def publish(doc: dict[str, Any]) -> None:
            await bus.publish_event(task_event_subject(doc["_id"]), task_view(doc))

        async def begun(count: int) -> bool:
            return len(started) == count

        async def finish(task_id: str, result: dict[str, Any]) -> None:
            await publish(await tasks.complete(task_id, result))

        # The first delivery starts its script; a redelivery while it runs waits for the same.
        first = asyncio.create_task((await delivery()).child("script", start))
        await eventually(lambda: begun(1))
        again = asyncio.create_task((await delivery()).child("script", start))
        await asyncio.sleep(0.3)
        assert len(started) == 1 and not again.done()
        await finish(started[0], {"id": "script_1"})
        assert await first == await again == {"id": "script_1"}
        # A later delivery reuses the completed child.
        assert await (await delivery()).child("script", start) == {"id": "script_1"}
        assert len(started) == 1

        # A failed child is started afresh, as a new task.
        run = await delivery()
        failing = asyncio.create_task(run.child("storyboard", start))
        await eventually(lambda: begun(2))
        await publish(await tasks.fail(started[1], {"code": 1000, "reason": "boom"}, final=True))
        with pytest.raises(AppError, match="storyboard stage failed: boom"):
            await failing
        retried = asyncio.create_task((await delivery()).child("storyboard", start))
        await eventually(lambda: begun(3))
        assert started[2] != started[1]
        await finish(started[2], {"storyboards": []})
        assert await retried == {"storyboards": []}

        # Recorded but never created (the process died in between): started under that id.
        async def crash(child_id: str) -> None:
            raise ConnectionError("gone before the start reached the service")

        with pytest.raises(ConnectionError):
            await (await delivery()).child("frames", crash)
        resumed = asyncio.create_task((await delivery()).child("frames", start))
        await eventually(lambda: begun(4))
        await finish(started[3], {"frames": []})
        assert await resumed == {"frames": []}
        state = (await delivery()).state
        assert state["stages"]["frames"]["task_id"] == started[3]

        # What a delivery remembers (the storyboard task's drama) the next one finds.
        await (await delivery()).remember(drama_id="drama_1")
        assert (await delivery()).state["drama_id"] == "drama_1"
    finally:
        await bus.close()
        await docs.close()
        server.stop()
