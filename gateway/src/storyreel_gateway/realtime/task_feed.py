"""Task events for realtime clients: one bus subscription per gateway, fanned out in memory.

Every worker publishes its task's record on `events.tasks.<id>` (core NATS) whenever it
changes. Each gateway replica subscribes once to `events.tasks.>`, so a client connected to any
replica sees every task's events, and hands each event to the listeners of that task id. The
feed knows nothing of owners: a listener is attached only after the route checked, through the
owner-scoped TaskService, that the caller owns the task.

The same feed carries the workflows' messages (`events.workflows.<id>`, published by the
workflow service, see `storyreel_workflow.workflow_events`), keyed by `workflow_id`: task ids
(`task_…`) and workflow ids (`wf_…`) never collide, so one listener map serves both.

A slow listener never slows the feed, and never falls behind: every event is the task's whole
record, so a listener keeps only the newest record of each task not yet sent (conflation, as
market-data feeds do). A client that reads slower than a render reports gets fewer progress
messages, each of them current, instead of a growing backlog of stale ones; the terminal
record always replaces whatever progress was waiting. Other messages (anything with a `type`,
such as `message.new`, or without a `task_id`) keep their order in a bounded queue of their own.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.logging import get_logger

log = get_logger("storyreel.gateway.realtime")

TASK_EVENTS = "events.tasks.>"
# Messages for every socket of one user (conversations' `message.new`): `push.users.<id>`.
USER_PUSH = "push.users.*"
WORKFLOW_EVENTS = "events.workflows.>"
QUEUE_SIZE = 256

Event = dict[str, Any]


class Listener:
    """One client's inbox: the newest unsent record per task id, then other messages, in the
    order they first arrived."""

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self._latest: dict[str, tuple[int, Event]] = {}
        self._messages: deque[tuple[int, Event]] = deque(maxlen=size)
        self._ready = asyncio.Event()
        self._seq = 0
        self.conflated = 0  # records replaced by a newer one before they were sent

    def offer(self, event: Event) -> None:
        self._seq += 1
        task_id = event.get("task_id")
        if not isinstance(task_id, str) or "type" in event:  # a message, not a task record
            self._messages.append((self._seq, event))
        elif (waiting := self._latest.get(task_id)) is None:
            self._latest[task_id] = (self._seq, event)
        else:
            # Keep the record's place in line; the newer record (by `updated_at`) wins.
            seq, held = waiting
            if str(event.get("updated_at") or "") >= str(held.get("updated_at") or ""):
                self._latest[task_id] = (seq, event)
            self.conflated += 1
        self._ready.set()

    @property
    def pending(self) -> int:
        """Records and messages waiting to be sent."""
        return len(self._latest) + len(self._messages)

    async def next(self) -> Event:
        while not (self._latest or self._messages):
            self._ready.clear()
            await self._ready.wait()
        first_task = next(iter(self._latest.items()), None)
        if self._messages and (first_task is None or self._messages[0][0] < first_task[1][0]):
            return self._messages.popleft()[1]
        assert first_task is not None
        del self._latest[first_task[0]]
        return first_task[1][1]


class TaskFeed:
    def __init__(self, bus: JetStreamBus, *, owns_bus: bool = False) -> None:
        self.bus = bus
        self.owns_bus = owns_bus
        self._listeners: dict[str, set[Listener]] = {}
        self._users: dict[str, set[Listener]] = {}
        self._unsubscribe: list[Callable[[], Awaitable[None]]] = []

    async def start(self) -> TaskFeed:
        self._unsubscribe.append(await self.bus.subscribe(TASK_EVENTS, self._dispatch))
        self._unsubscribe.append(await self.bus.subscribe(WORKFLOW_EVENTS, self._dispatch_workflow))
        self._unsubscribe.append(await self.bus.subscribe(USER_PUSH, self._dispatch_user))
        return self

    async def _dispatch_user(self, event: Event) -> None:
        """`{"user_id", "message"}`: the message goes to every listener of that user."""
        user_id, message = event.get("user_id"), event.get("message")
        if not isinstance(user_id, str) or not isinstance(message, dict):
            return
        for listener in tuple(self._users.get(user_id, ())):
            listener.offer(message)

    def attach_user(self, user_id: str, listener: Listener) -> None:
        self._users.setdefault(user_id, set()).add(listener)

    def detach_user(self, user_id: str, listener: Listener) -> None:
        listeners = self._users.get(user_id)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._users[user_id]

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
