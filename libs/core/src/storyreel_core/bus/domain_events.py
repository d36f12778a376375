"""Domain events between services (`events.drama.deleted`), handled at least once.

A service that owns data about a drama must forget it when the drama goes, even if it was down
when the drama was deleted. So the event is published with a stream acknowledgement, and each
interested service reads it through its own durable consumer on the EVENTS stream, acking only
after its handler finished. Handlers must be idempotent: a redelivery deletes nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from nats.js import api as js_api

from storyreel_core.bus.jetstream import EVENTS_STREAM, JetStreamBus, encode
from storyreel_core.logging import get_logger

log = get_logger("storyreel.events")

DRAMA_DELETED = "events.drama.deleted"

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]


async def publish_domain_event(
    bus: JetStreamBus, subject: str, payload: Mapping[str, Any], *, msg_id: str
) -> None:
    """Publish and wait until the EVENTS stream has stored it (`msg_id` de-duplicates)."""
    await bus.js.publish(subject, encode(payload), headers={"Nats-Msg-Id": msg_id})


async def announce_drama_deleted(bus: JetStreamBus, owner_id: str, drama_id: str) -> None:
    """Tell every service a drama is gone; a repeat within the dedupe window is dropped."""
    await publish_domain_event(
        bus,
        DRAMA_DELETED,
        {"owner_id": owner_id, "drama_id": drama_id},
        msg_id=f"drama-deleted-{drama_id}",
    )


class DomainEventConsumer:
    def __init__(
        self,
        bus: JetStreamBus,
        *,
        durable: str,
        subject: str,
        handler: EventHandler,
        retry_delay_s: float = 2.0,
    ) -> None:
        self.bus = bus
        self.durable = durable
        self.subject = subject
        self.handler = handler
        self.retry_delay_s = retry_delay_s
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        config = js_api.ConsumerConfig(
            durable_name=self.durable,
            filter_subject=self.subject,
            ack_policy=js_api.AckPolicy.EXPLICIT,
            # A consumer made for the first time starts with events from now on; once it
            # exists, what arrives while the service is down waits for it.
            deliver_policy=js_api.DeliverPolicy.NEW,
            ack_wait=30.0,
            max_deliver=-1,
        )
        await self.bus.js.add_consumer(EVENTS_STREAM, config)
        sub = await self.bus.js.pull_subscribe_bind(durable=self.durable, stream=EVENTS_STREAM)
        self._task = asyncio.create_task(self._loop(sub), name=f"events:{self.durable}")

    async def _loop(self, sub: Any) -> None:
        try:
            await self._consume(sub)
        finally:
            with contextlib.suppress(Exception):  # or the connection's drain waits on it
                await sub.unsubscribe()

    async def _consume(self, sub: Any) -> None:
        while not self._stopping.is_set():
            try:
                msgs = await sub.fetch(10, timeout=1.0)
            except TimeoutError:
                # No event within the wait: the normal idle case, not a failure. A batch fetch
                # raises the builtin TimeoutError (nats-py's `_fetch_n`), a single one
                # nats.errors.TimeoutError (a subclass); the builtin catches both.
                continue
            except Exception as exc:
                if self._stopping.is_set():
                    return
                # repr: many nats errors have an empty str(), which logged as `error=`.
                log.warning(
                    "events.fetch_failed",
                    consumer=self.durable,
                    error=repr(exc),
                    error_type=type(exc).__name__,
                )
                await asyncio.sleep(0.5)
                continue
            for msg in msgs:
                try:
                    await self.handler(json.loads(msg.data))
                except Exception as exc:
                    log.warning("events.handler_failed", consumer=self.durable, error=str(exc))
                    await msg.nak(delay=self.retry_delay_s)
                else:
                    await msg.ack()

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
