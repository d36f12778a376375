"""A realtime client's inbox (`task_feed.Listener`): conflated task records, ordered messages."""

from __future__ import annotations

import asyncio
from typing import Any

from storyreel_gateway.realtime.task_feed import Listener


def record(task_id: str, stamp: str, status: str = "running", pct: float = 0) -> dict[str, Any]:
    return {"task_id": task_id, "updated_at": stamp, "status": status, "progress": {"pct": pct}}


async def drain(listener: Listener, count: int) -> list[dict[str, Any]]:
    return [await asyncio.wait_for(listener.next(), 1) for _ in range(count)]


def test_a_slow_client_gets_the_newest_record_of_each_task_in_first_arrival_order() -> None:
    inbox = Listener()
    for i in range(50):  # a render reporting faster than the client reads
        inbox.offer(record("task_a", f"2026-01-01T00:00:{i:02d}.000Z", pct=i))
        if i == 10:
            inbox.offer(record("task_b", "2026-01-01T00:00:10.500Z"))
    inbox.offer({"type": "message.new", "conversation_id": "conv_1"})
    got = asyncio.run(drain(inbox, 3))
    assert [g.get("task_id") for g in got] == ["task_a", "task_b", None]
    assert got[0]["progress"]["pct"] == 49 and inbox.conflated == 49


def test_the_terminal_record_replaces_waiting_progress_and_an_older_one_never_does() -> None:
    inbox = Listener()
    inbox.offer(record("task_a", "2026-01-01T00:00:01.000Z"))
    inbox.offer(record("task_a", "2026-01-01T00:00:03.000Z", status="completed"))
    inbox.offer(record("task_a", "2026-01-01T00:00:02.000Z"))  # late, out of order
    (got,) = asyncio.run(drain(inbox, 1))
    assert got["status"] == "completed"


def test_messages_without_a_task_keep_their_order_and_are_never_conflated() -> None:
    inbox = Listener()
    for n in range(3):
        inbox.offer({"type": "message.new", "n": n})
    assert [m["n"] for m in asyncio.run(drain(inbox, 3))] == [0, 1, 2]


def test_next_waits_for_an_event() -> None:
    async def scenario() -> dict[str, Any]:
        inbox = Listener()
        waiting = asyncio.create_task(inbox.next())
        await asyncio.sleep(0.01)
        assert not waiting.done()
        inbox.offer(record("task_a", "2026-01-01T00:00:01.000Z"))
        return await asyncio.wait_for(waiting, 1)

    assert asyncio.run(scenario())["task_id"] == "task_a"
