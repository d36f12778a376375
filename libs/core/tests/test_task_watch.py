"""Waiting for many tasks at once (`task_watch.wait_for_tasks`), against a real nats-server:
woken by the events of tasks that end (not by progress), one store query per look, each
record seen once as it ends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.bus.job_runner import task_event_subject
from storyreel_core.errors import NotFound
from storyreel_core.task_store import TaskStore, task_view
from storyreel_core.task_watch import wait_for_tasks


class CountingTasks(TaskStore):
    """The real store, counting the reads a waiter makes."""

    reads = 0

    async def get_many(self, task_ids: Any) -> dict[str, dict[str, Any]]:
        self.reads += 1
        return await super().get_many(task_ids)


async def create(tasks: TaskStore, n: int) -> list[str]:
    ids = []
    for i in range(n):
        doc = await tasks.create(service="test", kind="echo", owner_id="usr_1", payload={"i": i})
        ids.append(str(doc["_id"]))
    return ids


async def finish(tasks: TaskStore, bus: JetStreamBus, task_id: str, *, ok: bool = True) -> None:
    if ok:
        doc = await tasks.complete(task_id, {"ok": True})
    else:
        doc = await tasks.fail(task_id, {"code": 1000, "reason": "broken"}, final=True)
    # What the job runner publishes when a record changes.
    await bus.publish_event(task_event_subject(task_id), task_view(doc))


async def test_each_task_is_seen_once_as_it_ends_with_one_read_per_look(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    counting = CountingTasks(tasks.docs)
    ids = await create(tasks, 12)
    seen: list[str] = []

    async def finished(doc: dict[str, Any]) -> None:
        seen.append(doc["_id"])

    # A poll far longer than the test: only the events can wake the waiter in time.
    waiter = asyncio.create_task(wait_for_tasks(bus, counting, ids, finished, poll_s=30))
    await asyncio.sleep(0.2)
    order = [*ids[6:], *ids[:6]]
    for task_id in order:
        await finish(tasks, bus, task_id)
        await asyncio.sleep(0.02)
    done = await asyncio.wait_for(waiter, 10)

    assert sorted(seen) == sorted(ids) and len(seen) == len(ids)  # each once
    assert set(done) == set(ids) and all(d["status"] == "completed" for d in done.values())
    # Twelve tasks ending one by one: at most a look per event plus the first, never a read
    # per task per look (which would be up to 12 + 11 + ... reads).
    assert counting.reads <= len(ids) + 1


async def test_a_failed_task_stops_the_wait_with_the_callbacks_error(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    ids = await create(tasks, 3)

    async def finished(doc: dict[str, Any]) -> None:
        if doc["status"] != "completed":
            raise RuntimeError(f"{doc['_id']} {doc['status']}")

    waiter = asyncio.create_task(wait_for_tasks(bus, tasks, ids, finished, poll_s=30))
    await asyncio.sleep(0.2)
    await finish(tasks, bus, ids[1], ok=False)
    with pytest.raises(RuntimeError, match=f"{ids[1]} failed"):
        await asyncio.wait_for(waiter, 10)


async def test_a_task_without_a_record_is_not_found(bus: JetStreamBus, tasks: TaskStore) -> None:
    ids = await create(tasks, 1)

    async def finished(_doc: dict[str, Any]) -> None:
        return None

    with pytest.raises(NotFound):
        await wait_for_tasks(bus, tasks, [*ids, "task_missing"], finished, poll_s=0.1)


async def test_the_poll_finds_a_task_whose_event_was_missed(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    ids = await create(tasks, 2)
    seen: list[str] = []

    async def finished(doc: dict[str, Any]) -> None:
        seen.append(doc["_id"])

    waiter = asyncio.create_task(wait_for_tasks(bus, tasks, ids, finished, poll_s=0.2))
    await asyncio.sleep(0.1)
    for task_id in ids:
        await tasks.complete(task_id, {"ok": True})  # no event published
    await asyncio.wait_for(waiter, 5)
    assert sorted(seen) == sorted(ids)


async def test_progress_events_do_not_wake_the_waiter(bus: JetStreamBus, tasks: TaskStore) -> None:
    counting = CountingTasks(tasks.docs)
    ids = await create(tasks, 2)

    async def finished(_doc: dict[str, Any]) -> None:
        return None

    waiter = asyncio.create_task(wait_for_tasks(bus, counting, ids, finished, poll_s=30))
    await asyncio.sleep(0.2)
    assert counting.reads == 1
    for n in range(10):  # a segment reporting its frames
        doc = await tasks.update(ids[0], status="running", progress={"done": n, "total": 10})
        await bus.publish_event(task_event_subject(ids[0]), task_view(doc))
    await asyncio.sleep(0.3)
    assert counting.reads == 1 and not waiter.done()
    await finish(tasks, bus, ids[0])
    await finish(tasks, bus, ids[1])
    await asyncio.wait_for(waiter, 10)
    assert counting.reads <= 3
