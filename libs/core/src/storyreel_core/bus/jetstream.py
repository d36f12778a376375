"""The bus adapter over nats-py: JetStream streams for jobs and events, durable pull consumers.

Only this module (and the job runner beside it) imports nats; services see `publish_job`,
`publish_event` and `events()` and nothing of the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import NotFoundError

from storyreel_core.logging import get_logger
from storyreel_core.telemetry.propagation import inject_context

log = get_logger("storyreel.bus")

JOBS_STREAM = "JOBS"
EVENTS_STREAM = "EVENTS"
DEDUP_WINDOW_S = 600.0
# JetStream publishes this advisory (core NATS, not stored) when a message of a consumer has been
# delivered `max_deliver` times without an ack or a term: `<prefix>.<stream>.<consumer>`, a JSON
# body with `stream_seq` and `deliveries` (NATS docs, "Monitoring JetStream: Advisories").
MAX_DELIVERIES_ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"

# (stream sequence of the job, deliveries made, consumer name)
MaxDeliveriesHandler = Callable[[int, int, str], Awaitable[None]]

JS_API_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable work-queue consumer; every replica of a service binds to the same one."""

    durable: str
    filter_subject: str
    ack_wait: float = 30.0
    max_deliver: int = 4
    backoff: tuple[float, ...] = field(default=(1.0, 5.0, 15.0))
    max_ack_pending: int = 64
    # Several subjects instead of `filter_subject` (when set): on a work-queue stream two
    # consumers may not overlap, so a service that gives one job kind a consumer of its own
    # lists its other kinds here rather than filtering on `jobs.<service>.>`.
    filter_subjects: tuple[str, ...] = ()

    def config(self) -> js_api.ConsumerConfig:
        # JetStream wants one backoff entry per redelivery at most (max_deliver - 1) and the
        # first entry to stand in for ack_wait; a heartbeat keeps long jobs from timing out.
        backoff = [max(self.ack_wait, b) for b in self.backoff][: max(self.max_deliver - 1, 0)]
        return js_api.ConsumerConfig(
            durable_name=self.durable,
            filter_subject=None if self.filter_subjects else self.filter_subject,
            filter_subjects=list(self.filter_subjects) or None,
            ack_policy=js_api.AckPolicy.EXPLICIT,
            deliver_policy=js_api.DeliverPolicy.ALL,
            ack_wait=self.ack_wait,
            max_deliver=self.max_deliver,
            backoff=backoff or None,
            max_ack_pending=self.max_ack_pending,
        )


def encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()


class JetStreamBus:
    def __init__(self, url: str, *, name: str = "storyreel") -> None:
        self.url = url
        self.name = name
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None

    async def connect(self) -> JetStreamBus:
        self._nc = await nats.connect(
            self.url, name=self.name, max_reconnect_attempts=-1, reconnect_time_wait=0.5
        )
        # 15 s, not nats-py's 5 s, for JetStream API calls (creating consumers at start-up):
        # on a machine whose cores are all busy the server's answer can take longer, and a
        # start that times out fails the whole service.
        self._js = self._nc.jetstream(timeout=JS_API_TIMEOUT_S)
        return self

    @property
    def nc(self) -> Client:
        if self._nc is None:
            raise RuntimeError("bus used before connect()")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("bus used before connect()")
        return self._js

    async def ping(self) -> bool:
        if self._nc is None or not self._nc.is_connected:
            return False
        try:
            await self._nc.flush(timeout=2)
        except Exception:
            return False
        return True

    async def ensure_streams(self) -> None:
        await self._ensure_stream(
            js_api.StreamConfig(
                name=JOBS_STREAM,
                subjects=["jobs.>"],
                retention=js_api.RetentionPolicy.WORK_QUEUE,
                storage=js_api.StorageType.FILE,
                duplicate_window=DEDUP_WINDOW_S,
            )
        )
        await self._ensure_stream(
            js_api.StreamConfig(
                name=EVENTS_STREAM,
                subjects=["events.>"],
                retention=js_api.RetentionPolicy.LIMITS,
                storage=js_api.StorageType.FILE,
                max_age=24 * 3600.0,
                duplicate_window=60.0,
            )
        )

    async def _ensure_stream(self, config: js_api.StreamConfig) -> None:
        """Create the stream, or reconcile the settings we own when an older config is there."""
        assert config.name is not None
        try:
            info = await self.js.stream_info(config.name)
        except NotFoundError:
            await self.js.add_stream(config)
            log.info("bus.stream.created", stream=config.name)
            return
        current = info.config
        wanted = {
            "subjects": config.subjects,
            "max_age": config.max_age,
            "duplicate_window": config.duplicate_window,
        }
        if any(getattr(current, k) != v for k, v in wanted.items() if v is not None):
            for key, value in wanted.items():
                setattr(current, key, value)
            await self.js.update_stream(current)
            log.info("bus.stream.updated", stream=config.name)

    async def ensure_consumer(self, spec: ConsumerSpec) -> None:
        """Create or update the durable consumer: the server applies changed editable fields."""
        await self.js.add_consumer(JOBS_STREAM, spec.config())

    async def consumer_lag(self, durable: str) -> int:
        info = await self.js.consumer_info(JOBS_STREAM, durable)
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def queue_status(self) -> dict[str, Any]:
        """The JOBS stream and each durable consumer, as plain data:
        `{"stream": {name, messages, bytes, first_seq, last_seq, consumer_count},
        "consumers": [{name, filter_subject, pending, ack_pending, redelivered, waiting,
        delivered_seq, ack_floor_seq}]}` (`pending`: not yet delivered; `ack_pending`:
        delivered, not acknowledged; `redelivered`: in flight after more than one delivery)."""
        info = await self.js.stream_info(JOBS_STREAM)
        consumers = await self.js.consumers_info(JOBS_STREAM)
        state = info.state
        return {
            "stream": {
                "name": JOBS_STREAM,
                "messages": int(state.messages or 0),
                "bytes": int(state.bytes or 0),
                "first_seq": int(state.first_seq or 0),
                "last_seq": int(state.last_seq or 0),
                "consumer_count": int(state.consumer_count or 0),
            },
            "consumers": [
                {
                    "name": c.name,
                    "filter_subject": c.config.filter_subject,
                    "pending": int(c.num_pending or 0),
                    "ack_pending": int(c.num_ack_pending or 0),
                    "redelivered": int(c.num_redelivered or 0),
                    "waiting": int(c.num_waiting or 0),
                    "delivered_seq": int(c.delivered.stream_seq or 0) if c.delivered else 0,
                    "ack_floor_seq": int(c.ack_floor.stream_seq or 0) if c.ack_floor else 0,
                }
                for c in sorted(consumers, key=lambda c: c.name)
            ],
        }

    async def pull(self, spec: ConsumerSpec) -> JetStreamContext.PullSubscription:
        return await self.js.pull_subscribe_bind(durable=spec.durable, stream=JOBS_STREAM)

    async def publish_job(
        self,
        subject: str,
        payload: Mapping[str, Any],
        *,
        msg_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> int:
        """Publish and wait for the stream's ack; `Nats-Msg-Id` de-duplicates a retried publish.
        Returns the job's stream sequence (the one already stored for a duplicate)."""
        all_headers = {"Nats-Msg-Id": msg_id, **(headers or {})}
        inject_context(all_headers)  # the worker's job span continues the publisher's trace
        ack = await self.js.publish(subject, encode(payload), headers=all_headers)
        return int(ack.seq)

    async def job_at(self, seq: int) -> dict[str, Any] | None:
        """The body of the job stored at stream sequence `seq`, or None when it is gone
        (acked, terminated, deleted) or unreadable."""
        try:
            raw = await self.js.get_msg(JOBS_STREAM, seq)
        except NotFoundError:
            return None
        try:
            data = json.loads(raw.data or b"{}")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    async def drop_job(self, seq: int) -> None:
        """Delete a job that will never be acked (its deliveries are used up); idempotent."""
        with contextlib.suppress(NotFoundError):
            await self.js.delete_msg(JOBS_STREAM, seq)

    async def on_max_deliveries(
        self, handler: MaxDeliveriesHandler, *, queue: str
    ) -> Callable[[], Awaitable[None]]:
        """Call `handler` for each max-deliveries advisory of a JOBS consumer; returns the
        unsubscribe. Subscribers sharing `queue` split the advisories (one handles each)."""

        async def on_message(msg: Msg) -> None:
            try:
                data = json.loads(msg.data or b"{}")
                seq, deliveries = int(data["stream_seq"]), int(data.get("deliveries") or 0)
                consumer = str(data.get("consumer") or msg.subject.rsplit(".", 1)[-1])
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("bus.advisory.malformed", subject=msg.subject, error=repr(exc))
                return
            try:
                await handler(seq, deliveries, consumer)
            except Exception as exc:  # the reaper's sweep is the safety net for a lost one
                log.warning("bus.advisory.failed", seq=seq, error=repr(exc))

        sub = await self.nc.subscribe(
            f"{MAX_DELIVERIES_ADVISORY}.{JOBS_STREAM}.*", queue=queue, cb=on_message
        )
        await self.nc.flush()
        return sub.unsubscribe

    async def publish_event(self, subject: str, payload: Mapping[str, Any]) -> None:
        await self.nc.publish(subject, encode(payload))

    async def events(self, subject: str) -> AsyncIterator[dict[str, Any]]:
        """Live events on a subject (wildcards allowed) until the consumer stops iterating."""
        sub = await self.nc.subscribe(subject)
        try:
            async for msg in sub.messages:
                yield decode(msg)
        finally:
            await sub.unsubscribe()

    async def notify(self, subject: str, wake: asyncio.Event) -> Callable[[], Awaitable[None]]:
        """Set `wake` whenever a message arrives on `subject`; returns the unsubscribe."""

        async def on_message(_msg: Msg) -> None:
            wake.set()

        sub = await self.nc.subscribe(subject, cb=on_message)
        # A round trip: the server knows the subscription before the caller reads the state
        # it watches, so an event published right after that read is never missed.
        await self._confirm(sub)
        return sub.unsubscribe

    async def subscribe(
        self, subject: str, handler: Callable[[dict[str, Any]], Awaitable[None]]
    ) -> Callable[[], Awaitable[None]]:
        """Call `handler` with every event on `subject` (wildcards allowed); returns the
        unsubscribe. The subscription is known to the server when this returns."""

        async def on_message(msg: Msg) -> None:
            try:
                payload = decode(msg)
            except ValueError as exc:
                log.warning("bus.event.malformed", subject=msg.subject, error=repr(exc))
                return
            await handler(payload)

        sub = await self.nc.subscribe(subject, cb=on_message)
        await self._confirm(sub)
        return sub.unsubscribe

    async def _confirm(self, sub: Subscription) -> None:
        """Wait until the server knows `sub` (a PING/PONG round trip, `flush`).

        The round trip is shielded: nats-py resolves a flush's future when its PONG arrives
        and its read loop fails if that future was cancelled meanwhile (`set_result` on a
        cancelled future raises InvalidStateError), which a caller cancelled here (a job
        ending while its watcher subscribes, a `wait_for` timing out) would otherwise cause.
        Cancelled, it drops the subscription and lets the round trip finish on its own."""
        try:
            await asyncio.shield(self.nc.flush())
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            raise

    async def close(self) -> None:
        if self._nc is not None:
            try:
                # A lost server would make drain() wait on reconnects forever.
                await asyncio.wait_for(self._nc.drain(), 5.0)
            except Exception:
                with contextlib.suppress(Exception):
                    await self._nc.close()
            self._nc = None
            self._js = None


def decode(msg: Msg) -> dict[str, Any]:
    data = json.loads(msg.data or b"{}")
    if not isinstance(data, dict):
        raise ValueError("bus payloads are JSON objects")
    return data
