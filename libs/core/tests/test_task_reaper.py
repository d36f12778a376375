"""No task left running for ever, against a real nats-server: the max-deliveries advisory, the
reaper's sweep (stale tasks failed, lost jobs published again, racing reapers), the runner's
heartbeat and the retry of a failed task."""

from __future__ import annotations

import asyncio
from typing import Any

import nats.errors
import pytest

from storyreel_core.bus.jetstream import JOBS_STREAM, ConsumerSpec, JetStreamBus
from storyreel_core.bus.job_runner import Job, JobContext, JobRunner
from storyreel_core.errors import AlreadyExists, NotFound
from storyreel_core.task_launcher import TaskLauncher
from storyreel_core.task_reaper import TaskReaper
from storyreel_core.task_store import TaskStore
from storyreel_core.testing import eventually

MAX_DELIVER = 2


def spec() -> ConsumerSpec:
    return ConsumerSpec(
        durable="test-workers",
        filter_subject="jobs.test.>",
        ack_wait=1.0,
        max_deliver=MAX_DELIVER,
        backoff=(0.1,),
    )


def reaper(tasks: TaskStore, bus: JetStreamBus, *, stale_after_s: float = 0.0) -> TaskReaper:
    return TaskReaper(
        tasks,
        bus,
        service="test",
        max_deliver=MAX_DELIVER,
        stale_after_s=stale_after_s,
        interval_s=0,  # sweeps are called by the tests
    )


async def launch(tasks: TaskStore, bus: JetStreamBus, owner: str = "usr_1") -> dict[str, Any]:
    return await TaskLauncher(tasks, bus).start(
        service="test", kind="echo", owner_id=owner, payload={"x": 1}
    )


async def echo(job: Job, ctx: JobContext) -> dict[str, Any]:
    return {"attempt": job.attempt, "x": job.payload["x"]}


async def stream_messages(bus: JetStreamBus) -> int:
    return int((await bus.js.stream_info(JOBS_STREAM)).state.messages)


async def test_a_job_killed_on_every_delivery_fails_its_task_on_the_advisory(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    """A worker takes the job and dies (no ack, no term) on each of its deliveries: JetStream's
    max-deliveries advisory fails the task with a reason and the spent job leaves the stream."""
    await bus.ensure_consumer(spec())
    listener = reaper(tasks, bus, stale_after_s=3600)
    await listener.start()
    task = await launch(tasks, bus)
    sub = await bus.pull(spec())
    for delivery in range(1, MAX_DELIVER + 1):
        (msg,) = await sub.fetch(1, timeout=10)  # ack_wait later for the second delivery
        assert msg.metadata.num_delivered == delivery
        await tasks.mark_running(task["_id"], delivery)  # ... and the worker dies here
    # JetStream notices the spent job when a worker asks for the next one (as live ones do).
    with pytest.raises(nats.errors.TimeoutError):
        await sub.fetch(1, timeout=2.5)
    await eventually(lambda: _status_is(tasks, task["_id"], "failed"), timeout=15)
    failed = await tasks.get(task["_id"])
    assert f"gave up after {MAX_DELIVER} deliveries" in failed["error"]["reason"]
    assert failed["finished_at"]
    assert await bus.job_at(task["job_seq"]) is None
    await sub.unsubscribe()
    await listener.stop()


async def test_sweep_leaves_a_queued_job_alone_and_fails_a_spent_one(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    await bus.ensure_consumer(spec())
    queued = await launch(tasks, bus)  # in the stream, never delivered: a backlog
    spent = await launch(tasks, bus)
    await tasks.mark_running(spent["_id"], MAX_DELIVER)  # the last delivery's worker died
    await asyncio.sleep(0.01)
    assert await reaper(tasks, bus).sweep() == [spent["_id"]]
    assert (await tasks.get(queued["_id"]))["status"] == "pending"
    assert (await tasks.get(spent["_id"]))["status"] == "failed"
    assert await bus.job_at(spent["job_seq"]) is None
    assert await bus.job_at(queued["job_seq"]) is not None


async def test_a_lost_job_is_published_once_however_many_reapers_race(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    """A task whose job is gone (never published, or lost with the stream) runs again, once."""
    await bus.ensure_consumer(spec())
    lost = await tasks.create(kind="echo", service="test", owner_id="usr_1", payload={"x": 7})
    await asyncio.sleep(0.01)
    before = await stream_messages(bus)
    acted = await asyncio.gather(*(reaper(tasks, bus).sweep() for _ in range(4)))
    assert sum(len(ids) for ids in acted) == 1
    assert await stream_messages(bus) == before + 1
    requeued = await tasks.get(lost["_id"])
    assert requeued["requeued"] == 1 and requeued["current_step"] == "requeued"
    runner = JobRunner(bus, tasks, spec(), {"echo": echo})
    await runner.start()
    await eventually(lambda: _status_is(tasks, lost["_id"], "completed"))
    assert (await tasks.get(lost["_id"]))["result"] == {"attempt": 1, "x": 7}
    await runner.stop()


async def test_a_running_job_keeps_its_task_alive_with_heartbeats(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    release = asyncio.Event()

    async def slow(job: Job, ctx: JobContext) -> dict[str, Any]:
        await release.wait()
        return {}

    runner = JobRunner(bus, tasks, spec(), {"echo": slow}, heartbeat_s=0.2, cancel_poll_s=0.1)
    await runner.start()
    task = await launch(tasks, bus)
    await eventually(lambda: _status_is(tasks, task["_id"], "running"))
    first = (await tasks.get(task["_id"]))["heartbeat_at"]
    sweeper = reaper(tasks, bus, stale_after_s=1.0)
    for _ in range(6):
        await asyncio.sleep(0.4)
        assert await sweeper.sweep() == []
    assert (await tasks.get(task["_id"]))["heartbeat_at"] > first
    release.set()
    await eventually(lambda: _status_is(tasks, task["_id"], "completed"))
    await runner.stop()


async def test_a_failed_task_is_retried_with_a_fresh_job(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    runs: list[int] = []

    async def flaky(job: Job, ctx: JobContext) -> dict[str, Any]:
        runs.append(job.attempt)
        if len(runs) <= MAX_DELIVER:
            raise RuntimeError("disk on fire")
        return {"runs": len(runs)}

    launcher = TaskLauncher(tasks, bus)
    runner = JobRunner(bus, tasks, spec(), {"echo": flaky})
    await runner.start()
    task = await launch(tasks, bus)
    await eventually(lambda: _status_is(tasks, task["_id"], "failed"))
    with pytest.raises(NotFound):
        await launcher.retry(task["_id"], "usr_2")  # another owner's task does not exist
    again = await launcher.retry(task["_id"], "usr_1")
    assert again["status"] == "pending" and again["error"] is None and again["retries"] == 1
    await eventually(lambda: _status_is(tasks, task["_id"], "completed"))
    assert (await tasks.get(task["_id"]))["result"] == {"runs": MAX_DELIVER + 1}
    with pytest.raises(AlreadyExists):
        await launcher.retry(task["_id"], "usr_1")  # a completed task is not retried
    await runner.stop()


async def _status_is(tasks: TaskStore, task_id: str, status: str) -> bool:
    return (await tasks.get(task_id))["status"] == status


async def test_a_job_published_before_a_retry_does_not_run_the_task_again(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    """Cancelled while its job still waited in the stream, then retried: the old job and the
    retry's job are both delivered, and the task runs once (twice side by side, a render
    created its workflow twice and failed)."""
    runs: list[int] = []

    async def count(job: Job, ctx: JobContext) -> dict[str, Any]:
        runs.append(job.attempt)
        await asyncio.sleep(0.2)
        return {"runs": len(runs)}

    launcher = TaskLauncher(tasks, bus)
    task = await launch(tasks, bus)  # no runner yet: its job waits in the stream
    await tasks.cancel(task["_id"], "usr_1")
    await launcher.retry(task["_id"], "usr_1")
    runner = JobRunner(bus, tasks, spec(), {"echo": count})
    await runner.start()
    await eventually(lambda: _status_is(tasks, task["_id"], "completed"))
    await asyncio.sleep(0.5)  # time for a second run to show itself
    assert runs == [1] and (await tasks.get(task["_id"]))["result"] == {"runs": 1}
    await runner.stop()
