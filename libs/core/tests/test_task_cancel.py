"""Cancelling a task tree announces each record that turned cancelled (real nats-server)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.errors import NotFound
from storyreel_core.task_cancel import cancel_task_tree
from storyreel_core.task_store import TaskStore


async def make(tasks: TaskStore, parent_id: str | None = None, owner: str = "usr_1") -> str:
    doc = await tasks.create(
        kind="echo", service="test", owner_id=owner, payload={}, parent_id=parent_id
    )
    return str(doc["_id"])


async def test_the_task_and_its_unfinished_children_are_cancelled_and_announced(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    parent = await make(tasks)
    pending, running, done = [await make(tasks, parent) for _ in range(3)]
    await tasks.update(running, status="running")
    await tasks.complete(done, {"ok": True})
    heard: list[dict[str, Any]] = []

    async def on_event(event: dict[str, Any]) -> None:
        heard.append(event)

    unsubscribe = await bus.subscribe("events.tasks.>", on_event)
    try:
        doc = await cancel_task_tree(tasks, bus.publish_event, parent, "usr_1")
        assert doc["status"] == "cancelled"
        await bus.nc.flush()
        for _ in range(50):
            if len(heard) >= 3:
                break
            await asyncio.sleep(0.05)
    finally:
        await unsubscribe()
    assert {e["task_id"]: e["status"] for e in heard} == {
        parent: "cancelled",
        pending: "cancelled",
        running: "cancelled",
    }
    assert (await tasks.get(done))["status"] == "completed"


async def test_a_finished_task_is_answered_as_it_is_and_nothing_is_announced(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    task_id = await make(tasks)
    await tasks.complete(task_id, {"ok": True})
    heard: list[dict[str, Any]] = []

    async def on_event(event: dict[str, Any]) -> None:
        heard.append(event)

    unsubscribe = await bus.subscribe(f"events.tasks.{task_id}", on_event)
    try:
        doc = await cancel_task_tree(tasks, bus.publish_event, task_id, "usr_1")
        await bus.nc.flush()
        await asyncio.sleep(0.2)
    finally:
        await unsubscribe()
    assert doc["status"] == "completed"
    assert heard == []


async def test_another_owners_task_is_not_found(bus: JetStreamBus, tasks: TaskStore) -> None:
    task_id = await make(tasks, owner="usr_2")
    with pytest.raises(NotFound):
        await cancel_task_tree(tasks, bus.publish_event, task_id, "usr_1")
    assert (await tasks.get(task_id))["status"] == "pending"


async def test_a_subscribe_cancelled_mid_round_trip_leaves_the_connection_working(
    bus: JetStreamBus,
) -> None:
    """What a job ending while its watcher subscribes does: cancel `subscribe` during its
    flush. nats-py's read loop would die on the PONG of a cancelled flush; the bus shields it,
    so events still flow afterwards (and the half-made subscription is dropped)."""
    heard: list[dict[str, Any]] = []

    async def on_event(event: dict[str, Any]) -> None:
        heard.append(event)

    for _ in range(20):
        attempt = asyncio.ensure_future(bus.subscribe("events.tasks.gone", on_event))
        await asyncio.sleep(0)  # SUB written, the PING's PONG not yet back
        attempt.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await attempt
    unsubscribe = await asyncio.wait_for(bus.subscribe("events.tasks.here", on_event), 5)
    try:
        await bus.publish_event("events.tasks.gone", {"status": "cancelled"})
        await bus.publish_event("events.tasks.here", {"status": "cancelled"})
        await asyncio.wait_for(bus.nc.flush(), 5)
        for _ in range(50):
            if heard:
                break
            await asyncio.sleep(0.05)
    finally:
        await unsubscribe()
    assert heard == [{"status": "cancelled"}]
    assert bus.nc.is_connected
