"""Task events for realtime clients: one bus subscription per gateway, fanned out in memory.

Every worker publishes its task's record on `events.tasks.<id>` (core NATS) whenever it
changes. Each gateway replica subscribes once to `events.tasks.>`, so a client connected to any
replica sees every task's events, and hands each event to the listeners of that task id. The
feed knows nothing of owners: a listener is attached only after the route checked, through the
owner-scoped TaskService, that the caller owns the task.

The same feed carries the workflows' messages (`events.workflows.<id>`, published by the
workflow service, see `storyreel_workflow.workflow_events`), keyed by `workflow_id`: task ids
(`task_…`) and workflow ids (`wf_…`) never collide, so one listener map serves both.

A slow listener never slows the feed: each has a bounded queue, and when it is full the oldest
event is dropped (a later event of the same task carries the newer state anyway).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.logging import get_logger

log = get_logger("storyreel.gateway.realtime")

TASK_EVENTS = "events.tasks.>"
WORKFLOW_EVENTS = "events.workflows.>"
QUEUE_SIZE = 256

Event = dict[str, Any]


class Listener:
    """One client's inbox: the events of the task ids it attached, in arrival order."""

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)

    async def next(self) -> Event:
        return await self.queue.get()


class TaskFeed:
    def __init__(self, bus: JetStreamBus, *, owns_bus: bool = False) -> None:
        self.bus = bus
        self.owns_bus = owns_bus
        self._listeners: dict[str, set[Listener]] = {}
        self._unsubscribe: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> TaskFeed:
        self._unsubscribe.append(await self.bus.subscribe(TASK_EVENTS, self._dispatch))
        self._unsubscribe.append(await self.bus.subscribe(WORKFLOW_EVENTS, self._dispatch_workflow))
        return self

    async def _dispatch(self, event: Event) -> None:
        self._offer(event.get("task_id"), event)

    async def _dispatch_workflow(self, event: Event) -> None:
        self._offer(event.get("workflow_id"), event)

    def _offer(self, key: object, event: Event) -> None:
        if not isinstance(key, str):
            return
        for listener in tuple(self._listeners.get(key, ())):
            listener.offer(event)

    def attach(self, task_id: str, listener: Listener) -> None:
        self._listeners.setdefault(task_id, set()).add(listener)

    def detach(self, task_id: str, listener: Listener) -> None:
        listeners = self._listeners.get(task_id)
        if listeners is None:
            return
        listeners.discard(listener)
        if not listeners:
            del self._listeners[task_id]

    def detach_all(self, listener: Listener) -> None:
        for task_id in [t for t, ls in self._listeners.items() if listener in ls]:
            self.detach(task_id, listener)

    @property
    def watched(self) -> int:
        """How many task ids have at least one listener (for metrics and tests)."""
        return len(self._listeners)

    async def close(self) -> None:
        unsubscribes, self._unsubscribe = self._unsubscribe, []
        for unsubscribe in unsubscribes:
            try:
                await unsubscribe()
            except Exception as exc:  # the connection may already be gone at shutdown
                log.info("realtime.unsubscribe_failed", error=repr(exc))
        if self.owns_bus:
            await self.bus.close()


async def open_task_feed(nats_url: str) -> TaskFeed:
    """A feed on its own connection (the standalone gateway)."""
    bus = await JetStreamBus(nats_url, name="storyreel-gateway").connect()
    return await TaskFeed(bus, owns_bus=True).start()
