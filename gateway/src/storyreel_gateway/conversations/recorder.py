"""Writes a conversation's message when a task started in it finishes, and pushes it.

Two writers, one message (its id is derived from the task id and status, see `store`):

- a durable JetStream consumer (`gateway-conversations`) on the EVENTS stream reads every
  `events.tasks.<id>` record the workers publish; all gateway replicas bind the same durable,
  so each event is handled by one of them, and an event published while every gateway was down
  waits in the stream;
- the gateway that started the task, right after linking it to the conversation, reads the
  task once: a task that finished before the link existed is recorded there.

A new message is published on `push.users.<owner id>` (core NATS, not stored); every replica's
`TaskFeed` hands it to that owner's open sockets as seed 004's `message.new`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from storyreel_core.bus.domain_events import DomainEventConsumer
from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.logging import get_logger
from storyreel_core.task_store import TERMINAL
from storyreel_gateway.conversations.store import ConversationStore

log = get_logger("storyreel.gateway.conversations")

DURABLE = "gateway-conversations"
TASK_EVENTS = "events.tasks.>"
PUSH_PREFIX = "push.users."


def push_subject(user_id: str) -> str:
    return PUSH_PREFIX + user_id


def message_new(message: dict[str, Any]) -> dict[str, Any]:
    """Seed 004's new-message event, in our snake_case names."""
    return {
        "type": "message.new",
        "conversation_id": message["conversation_id"],
        "data": {
            "message_id": message["_id"],
            "content": message["content"],
            "role": message["role"],
            "message_type": message["type"],
            "created_at": message["created_at"],
        },
    }


class ConversationRecorder:
    def __init__(self, store: ConversationStore, bus: JetStreamBus | None) -> None:
        self.store = store
        self.bus = bus
        self._consumer: DomainEventConsumer | None = None
        # Other work moved on by a finished task (screenplay drafts), on the same consumer.
        self.on_finished: list[Callable[[dict[str, Any]], Awaitable[None]]] = []

    async def start(self) -> ConversationRecorder:
        if self.bus is not None:
            await self.bus.ensure_streams()
            self._consumer = DomainEventConsumer(
                self.bus, durable=DURABLE, subject=TASK_EVENTS, handler=self.on_task_event
            )
            await self._consumer.start()
        return self

    async def on_task_event(self, view: dict[str, Any]) -> None:
        if view.get("status") in TERMINAL:
            await self.record(view)
            for follow in self.on_finished:
                try:
                    await follow(view)
                except Exception as exc:  # what it moves on is also moved on when read
                    log.warning(
                        "conversations.follow_failed", task_id=view.get("task_id"), error=str(exc)
                    )

    async def record(self, view: dict[str, Any]) -> None:
        """Write the task's message (if it reports to a conversation) and push it once."""
        message = await self.store.record_task(view)
        if message is None:
            return
        log.info(
            "conversations.message_written",
            conversation_id=message["conversation_id"],
            task_id=view.get("task_id"),
        )
        await self.push(message)

    async def push(self, message: dict[str, Any]) -> None:
        """Publish a stored message to its owner's sockets (`message.new`); best effort."""
        if self.bus is not None:
            try:
                payload = {"user_id": message["owner_id"], "message": message_new(message)}
                await self.bus.publish_event(push_subject(message["owner_id"]), payload)
            except Exception as exc:  # the message is stored; the client sees it when it reads
                log.warning("conversations.push_failed", error=str(exc))

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
