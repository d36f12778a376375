"""Domain events reach every subscriber service at least once, even one that was down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats.errors
import pytest
import structlog

from storyreel_core.bus.domain_events import (
    DRAMA_DELETED,
    DomainEventConsumer,
    publish_domain_event,
)
from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.testing import BundledNatsServer, eventually, start_nats


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[JetStreamBus]:
    server: BundledNatsServer = await start_nats(tmp_path)
    b = await JetStreamBus(server.url).connect()
    await b.ensure_streams()
    yield b
    await b.close()
    server.stop()


async def test_each_service_gets_the_event_and_a_failure_is_retried(bus: JetStreamBus) -> None:
    seen: dict[str, list[dict[str, Any]]] = {"script": [], "asset": []}
    failures = {"asset": 1}

    def handler(name: str) -> Any:
        async def handle(event: dict[str, Any]) -> None:
            if failures.get(name):
                failures[name] -= 1
                raise RuntimeError("store briefly down")
            seen[name].append(event)

        return handle

    consumers = [
        DomainEventConsumer(
            bus,
            durable=f"{n}-drama-deleted",
            subject=DRAMA_DELETED,
            handler=handler(n),
            retry_delay_s=0.1,
        )
        for n in seen
    ]
    for c in consumers:
        await c.start()
    await publish_domain_event(
        bus, DRAMA_DELETED, {"drama_id": "drama_1", "owner_id": "usr_1"}, msg_id="del-drama_1"
    )

    async def both_seen() -> bool:
        return all(len(v) == 1 for v in seen.values())

    await eventually(both_seen, timeout=10)
    assert seen["asset"][0]["drama_id"] == "drama_1"
    for c in consumers:
        await c.stop()


async def test_a_service_that_was_down_catches_up(bus: JetStreamBus) -> None:
    seen: list[str] = []

    async def handle(event: dict[str, Any]) -> None:
        seen.append(event["drama_id"])

    consumer = DomainEventConsumer(
        bus, durable="video-drama-deleted", subject=DRAMA_DELETED, handler=handle
    )
    await consumer.start()
    await consumer.stop()
    await publish_domain_event(bus, DRAMA_DELETED, {"drama_id": "drama_2"}, msg_id="d2")
    await asyncio.sleep(0.2)
    assert seen == []
    again = DomainEventConsumer(
        bus, durable="video-drama-deleted", subject=DRAMA_DELETED, handler=handle
    )
    await again.start()

    async def caught_up() -> bool:
        return seen == ["drama_2"]

    await eventually(caught_up, timeout=10)
    await again.stop()


async def test_an_idle_consumer_logs_no_fetch_failure(bus: JetStreamBus) -> None:
    """With no events, every batch fetch times out: that is waiting, not a failure (it used to
    log `events.fetch_failed error=` with an empty error about every second per consumer)."""

    async def handle(_event: dict[str, Any]) -> None:
        return None

    consumer = DomainEventConsumer(
        bus, durable="idle-drama-deleted", subject=DRAMA_DELETED, handler=handle
    )
    with structlog.testing.capture_logs() as logs:
        await consumer.start()
        await asyncio.sleep(2.5)  # at least two fetch timeouts of 1 s
        await consumer.stop()
    assert [e for e in logs if e["event"] == "events.fetch_failed"] == []


class _FailingSubscription:
    """A pull subscription whose every fetch raises `exc` (the second also stops the loop)."""

    def __init__(self, consumer: DomainEventConsumer, exc: Exception) -> None:
        self.consumer = consumer
        self.exc = exc
        self.calls = 0

    async def fetch(self, _batch: int, timeout: float) -> list[Any]:
        self.calls += 1
        if self.calls > 1:
            self.consumer._stopping.set()
        raise self.exc


async def _fetch_failures(bus: JetStreamBus, exc: Exception) -> list[dict[str, Any]]:
    async def handle(_event: dict[str, Any]) -> None:
        return None

    consumer = DomainEventConsumer(bus, durable="x", subject=DRAMA_DELETED, handler=handle)
    with structlog.testing.capture_logs() as logs:
        await consumer._consume(_FailingSubscription(consumer, exc))
    return [e for e in logs if e["event"] == "events.fetch_failed"]


async def test_a_batch_fetch_timeout_is_not_a_failure(bus: JetStreamBus) -> None:
    """nats-py's batch fetch raises the bare builtin TimeoutError when the wait ends between
    its no-wait probe and its long poll; that is the idle case and logs nothing."""
    assert await _fetch_failures(bus, TimeoutError()) == []
    assert await _fetch_failures(bus, nats.errors.TimeoutError()) == []


async def test_a_failed_fetch_logs_its_cause(bus: JetStreamBus) -> None:
    failures = await _fetch_failures(bus, ConnectionResetError())
    assert failures and failures[0]["error"] == "ConnectionResetError()"
    assert failures[0]["error_type"] == "ConnectionResetError"
