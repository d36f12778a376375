"""The job runner against a real nats-server: delivery, retries, failure, redelivery, cancel."""

from __future__ import annotations

import asyncio
from typing import Any

from storyreel_core.bus.jetstream import ConsumerSpec, JetStreamBus
from storyreel_core.bus.job_runner import Job, JobContext, JobRunner, job_subject
from storyreel_core.errors import ValidationFailed
from storyreel_core.task_cancel import cancel_task_tree
from storyreel_core.task_store import TaskStore
from storyreel_core.testing import eventually


def spec(**kw: Any) -> ConsumerSpec:
    base: dict[str, Any] = {
        "durable": "test-workers",
        "filter_subject": "jobs.test.>",
        "ack_wait": 1.0,
        "max_deliver": 3,
        "backoff": (0.1, 0.1),
    }
    base.update(kw)
    return ConsumerSpec(**base)


async def submit(bus: JetStreamBus, tasks: TaskStore, kind: str = "echo") -> str:
    task = await tasks.create(kind=kind, service="test", owner_id="usr_1", payload={"x": 1})
    body = {"task_id": task["_id"], "kind": kind, "owner_id": "usr_1", "payload": {"x": 1}}
    await bus.publish_job(job_subject("test", kind), body, msg_id=task["_id"])
    return str(task["_id"])


async def status_of(tasks: TaskStore, task_id: str) -> str:
    return str((await tasks.get(task_id))["status"])


async def test_completed_job_stores_result_and_publishes_events(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    async def echo(job: Job, ctx: JobContext) -> dict[str, Any]:
        await ctx.progress(1, 2, "half way")
        return {"echo": job.payload["x"]}

    runner = JobRunner(bus, tasks, spec(), {"echo": echo})
    await runner.start()
    seen: list[dict[str, Any]] = []
    task_id = await submit(bus, tasks)

    async def collect() -> None:
        async for event in bus.events(f"events.tasks.{task_id}"):
            seen.append(event)
            if event["status"] == "completed":
                return

    await asyncio.wait_for(collect(), 10)
    doc = await tasks.get(task_id)
    assert doc["result"] == {"echo": 1}
    assert doc["progress"]["percentage"] == 100.0
    assert any(e["current_step"] == "half way" for e in seen)
    await runner.stop()


async def test_duplicate_publish_is_deduplicated(bus: JetStreamBus, tasks: TaskStore) -> None:
    runs: list[str] = []

    async def count(job: Job, ctx: JobContext) -> dict[str, Any]:
        runs.append(job.task_id)
        return {}

    task_id = await submit(bus, tasks)
    body = {"task_id": task_id, "kind": "echo", "owner_id": "usr_1", "payload": {}}
    await bus.publish_job(job_subject("test", "echo"), body, msg_id=task_id)
    runner = JobRunner(bus, tasks, spec(), {"echo": count})
    await runner.start()
    await eventually(lambda: _is(tasks, task_id, "completed"))
    await asyncio.sleep(1.5)
    assert runs == [task_id]
    await runner.stop()


async def _is(tasks: TaskStore, task_id: str, status: str) -> bool:
    return await status_of(tasks, task_id) == status


async def test_job_that_keeps_failing_ends_failed_after_last_delivery(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    attempts: list[int] = []

    async def broken(job: Job, ctx: JobContext) -> dict[str, Any]:
        attempts.append(job.attempt)
        raise RuntimeError("disk on fire")

    runner = JobRunner(bus, tasks, spec(), {"echo": broken})
    await runner.start()
    task_id = await submit(bus, tasks)
    await eventually(lambda: _is(tasks, task_id, "failed"))
    doc = await tasks.get(task_id)
    assert attempts == [1, 2, 3]
    assert doc["attempts"] == 3
    assert "disk on fire" in doc["error"]["reason"]
    await runner.stop()


async def test_validation_error_fails_at_once(bus: JetStreamBus, tasks: TaskStore) -> None:
    attempts: list[int] = []

    async def picky(job: Job, ctx: JobContext) -> dict[str, Any]:
        attempts.append(job.attempt)
        raise ValidationFailed("story is empty", field="story")

    runner = JobRunner(bus, tasks, spec(), {"echo": picky})
    await runner.start()
    task_id = await submit(bus, tasks)
    await eventually(lambda: _is(tasks, task_id, "failed"))
    assert attempts == [1]
    assert (await tasks.get(task_id))["error"]["code"] == 1001
    await runner.stop()


async def test_job_of_a_dead_worker_is_redelivered(bus: JetStreamBus, tasks: TaskStore) -> None:
    started = asyncio.Event()

    async def hangs(job: Job, ctx: JobContext) -> dict[str, Any]:
        started.set()
        await asyncio.sleep(3600)
        return {}

    # The first worker takes the job and dies without acking or handing it back (no stop()).
    dead_bus = await JetStreamBus(bus.url).connect()
    dying = JobRunner(dead_bus, tasks, spec(), {"echo": hangs}, cancel_poll_s=30)
    await dying.start()
    task_id = await submit(bus, tasks)
    await asyncio.wait_for(started.wait(), 10)
    assert dying._loop_task is not None
    dying._loop_task.cancel()
    for t in list(dying._inflight):
        t.cancel()
    await dead_bus.nc.close()

    async def works(job: Job, ctx: JobContext) -> dict[str, Any]:
        return {"attempt": job.attempt}

    survivor = JobRunner(bus, tasks, spec(), {"echo": works})
    await survivor.start()
    await eventually(lambda: _is(tasks, task_id, "completed"))
    assert (await tasks.get(task_id))["result"] == {"attempt": 2}
    await survivor.stop()


async def start_long_job(
    bus: JetStreamBus, tasks: TaskStore, cancel_poll_s: float
) -> tuple[JobRunner, str, asyncio.Event]:
    """A runner working on a job that would run for an hour: its task id, and an event set
    when the job's work stops."""
    started = asyncio.Event()
    stopped = asyncio.Event()

    async def long(job: Job, ctx: JobContext) -> dict[str, Any]:
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()
        return {}

    runner = JobRunner(bus, tasks, spec(), {"echo": long}, cancel_poll_s=cancel_poll_s)
    await runner.start()
    task_id = await submit(bus, tasks)
    await asyncio.wait_for(started.wait(), 10)
    return runner, task_id, stopped


async def test_cancel_stops_a_running_job(bus: JetStreamBus, tasks: TaskStore) -> None:
    """A cancel written to the record alone (announced to nobody) is seen at the next look."""
    runner, task_id, stopped = await start_long_job(bus, tasks, cancel_poll_s=0.1)
    await tasks.cancel(task_id, "usr_1")
    await asyncio.wait_for(stopped.wait(), 10)
    assert await status_of(tasks, task_id) == "cancelled"
    await runner.stop()


async def test_consumer_settings_are_reconciled(bus: JetStreamBus) -> None:
    await bus.ensure_consumer(spec(max_ack_pending=10))
    await bus.ensure_consumer(spec(max_ack_pending=20, ack_wait=2.0))
    info = await bus.js.consumer_info("JOBS", "test-workers")
    assert info.config.max_ack_pending == 20
    assert info.config.ack_wait == 2.0


async def test_an_announced_cancel_stops_the_job_without_waiting_for_a_look(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    """The runner looks at the record only every 60 s here: only the event can stop it."""
    runner, task_id, stopped = await start_long_job(bus, tasks, cancel_poll_s=60)
    await asyncio.sleep(0.5)  # past the watcher's first look
    await cancel_task_tree(tasks, bus.publish_event, task_id, "usr_1")
    await asyncio.wait_for(stopped.wait(), 10)
    await eventually(lambda: _is(tasks, task_id, "cancelled"))
    await runner.stop()
