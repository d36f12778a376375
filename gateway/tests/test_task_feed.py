"""The realtime feed against a real nats-server, and the push messages clients receive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.bus.job_runner import task_event_subject
from storyreel_core.testing import BundledNatsServer, start_nats
from storyreel_gateway.realtime.push_messages import TaskOrder, task_message
from storyreel_gateway.realtime.task_feed import Listener, TaskFeed


@pytest.fixture
async def nats_server(tmp_path: Path) -> AsyncIterator[BundledNatsServer]:
    server = await start_nats(tmp_path)
    yield server
    server.stop()


def view(task_id: str, status: str, percent: float, stamp: str, **extra: Any) -> dict[str, Any]:
    return {
        "task_id": task_id,
        "status": status,
        "progress": {"total": 4, "completed": int(percent // 25), "percentage": percent},
        "current_step": "drawing frames",
        "updated_at": stamp,
        **extra,
    }


async def test_two_gateway_feeds_each_get_every_event_of_a_watched_task(
    nats_server: BundledNatsServer,
) -> None:
    """Two replicas on one bus: a client on either sees the task; unwatched tasks cost nothing."""
    worker = await JetStreamBus(nats_server.url).connect()
    replicas = [await TaskFeed(await JetStreamBus(nats_server.url).connect()).start() for _ in "ab"]
    a, b = Listener(), Listener()
    replicas[0].attach("task_1", a)
    replicas[1].attach("task_1", b)
    try:
        for i, stamp in enumerate(("2026-01-01T00:00:00.001Z", "2026-01-01T00:00:00.002Z")):
            await worker.publish_event(
                task_event_subject("task_1"), view("task_1", "running", 25.0 * i, stamp)
            )
        await worker.publish_event(task_event_subject("task_2"), view("task_2", "running", 10, "x"))
        for listener in (a, b):
            # Both records, or only the newer when they arrived before the client read (a
            # listener keeps the newest waiting record of a task): in order, ending at 25 %.
            seen = [(await asyncio.wait_for(listener.next(), 15))["progress"]["percentage"]]
            while seen[-1] != 25.0:
                seen.append((await asyncio.wait_for(listener.next(), 15))["progress"]["percentage"])
            assert seen in ([0.0, 25.0], [25.0])
            assert listener.pending == 0
        replicas[0].detach_all(a)
        assert replicas[0].watched == 0 and replicas[1].watched == 1
    finally:
        for feed in replicas:
            await feed.close()
            await feed.bus.close()
        await worker.close()


def test_a_full_message_queue_drops_its_oldest_message() -> None:
    listener = Listener(size=2)
    for i in range(3):
        listener.offer({"type": "message.new", "n": i})
    assert listener.pending == 2
    got = asyncio.run(_drain(listener, 2))
    assert [m["n"] for m in got] == [1, 2]


async def _drain(listener: Listener, count: int) -> list[dict[str, Any]]:
    return [await asyncio.wait_for(listener.next(), 1) for _ in range(count)]


def test_order_drops_stale_and_post_terminal_events() -> None:
    order = TaskOrder()
    assert order.admit(view("t", "running", 50, "2026-01-01T00:00:01.000Z"))
    assert not order.admit(view("t", "running", 40, "2026-01-01T00:00:00.500Z"))
    assert order.admit(view("t", "completed", 100, "2026-01-01T00:00:02.000Z"))
    assert not order.admit(view("t", "completed", 100, "2026-01-01T00:00:02.000Z"))
    assert not order.admit(view("t", "running", 90, "2026-01-01T00:00:03.000Z"))
    order.forget("t")
    assert order.admit(view("t", "running", 10, "2026-01-01T00:00:00.000Z"))


def test_messages_follow_seed_004_types() -> None:
    def sign(value: Any) -> Any:
        return {**value, "video_url": "signed"} if value else value

    running = task_message(view("t", "running", 50, "s"), sign)
    assert running["type"] == "task.progress" and running["data"]["progress"] == 50
    assert running["data"]["details"]["total"] == 4
    done = task_message(view("t", "completed", 100, "s", result={"video_key": "k"}), sign)
    assert done == {
        "type": "task.completed",
        "task_id": "t",
        "data": {
            "status": "completed",
            "result": {"video_key": "k", "video_url": "signed"},
            "updated_at": "s",
        },
    }
    failed = task_message(
        view("t", "failed", 60, "s", error={"code": 2001, "reason": "model down"}), sign
    )
    assert failed["type"] == "task.failed"
    assert failed["data"] == {
        "status": "failed",
        "error": "task failed",
        "reason": "model down",
        "code": 2001,
        "updated_at": "s",
    }
    cancelled = task_message(view("t", "cancelled", 60, "s"), sign)
    assert cancelled["type"] == "task.failed" and cancelled["data"]["status"] == "cancelled"


def record(task_id: str, stamp: str, status: str = "running", pct: float = 0) -> dict[str, Any]:
    return {"task_id": task_id, "updated_at": stamp, "status": status, "progress": {"pct": pct}}


def test_a_slow_client_gets_the_newest_record_of_each_task_in_first_arrival_order() -> None:
    inbox = Listener()
    for i in range(50):  # a render reporting faster than the client reads
        inbox.offer(record("task_a", f"2026-01-01T00:00:{i:02d}.000Z", pct=i))
        if i == 10:
            inbox.offer(record("task_b", "2026-01-01T00:00:10.500Z"))
    inbox.offer({"type": "message.new", "conversation_id": "conv_1"})
    got = asyncio.run(_drain(inbox, 3))
    assert [g.get("task_id") for g in got] == ["task_a", "task_b", None]
    assert got[0]["progress"]["pct"] == 49 and inbox.conflated == 49


def test_the_terminal_record_replaces_waiting_progress_and_an_older_one_never_does() -> None:
    inbox = Listener()
    inbox.offer(record("task_a", "2026-01-01T00:00:01.000Z"))
    inbox.offer(record("task_a", "2026-01-01T00:00:03.000Z", status="completed"))
    inbox.offer(record("task_a", "2026-01-01T00:00:02.000Z"))  # late, out of order
    (got,) = asyncio.run(_drain(inbox, 1))
    assert got["status"] == "completed"


def test_messages_without_a_task_keep_their_order_and_are_never_conflated() -> None:
    inbox = Listener()
    for n in range(3):
        inbox.offer({"type": "message.new", "n": n})
    assert [m["n"] for m in asyncio.run(_drain(inbox, 3))] == [0, 1, 2]


def test_next_waits_for_an_event() -> None:
    async def scenario() -> dict[str, Any]:
        inbox = Listener()
        waiting = asyncio.create_task(inbox.next())
        await asyncio.sleep(0.01)
        assert not waiting.done()
        inbox.offer(record("task_a", "2026-01-01T00:00:01.000Z"))
        return await asyncio.wait_for(waiting, 1)

    assert asyncio.run(scenario())["task_id"] == "task_a"
