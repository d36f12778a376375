"""Run one service: its gRPC server, its job runner, readiness, and a graceful stop.

The same `RunningService` serves a standalone deployable (`storyreel-<name>`) and each service
inside the embedded launcher; only who opens the `Platform` differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from storyreel_core.bus.domain_events import DRAMA_DELETED, DomainEventConsumer
from storyreel_core.bus.jetstream import ConsumerSpec
from storyreel_core.bus.job_runner import Handler, JobRunner, job_subject
from storyreel_core.bus.nats_server import BundledNatsServer
from storyreel_core.cancellation import raise_if_cancelling
from storyreel_core.cpu_priority import favour_event_loop
from storyreel_core.logging import configure_logging, get_logger
from storyreel_core.malloc_arenas import limit_malloc_arenas
from storyreel_core.platform import Platform, open_platform
from storyreel_core.providers.config import check_at_start_up
from storyreel_core.rpc.server import GrpcServer, Registrar
from storyreel_core.settings import DEFAULT_PORTS, Settings
from storyreel_core.task_reaper import TaskReaper
from storyreel_core.telemetry.metrics import start_metrics_server, stop_watch, watch_consumer_lag
from storyreel_core.telemetry.tracing import configure_tracing

log = get_logger("storyreel.runtime")

DramaCleanup = Callable[[str, str], Awaitable[object]]


@dataclass
class ServiceParts:
    """What a service contributes: gRPC servicers, job handlers, start-up steps."""

    name: str
    registrars: list[Registrar]
    service_names: list[str]
    handlers: dict[str, Handler] = field(default_factory=dict)
    # Kinds (keys of `handlers`) pulled by a consumer of their own, with their own slots:
    # a job that waits for jobs of such a kind (the final cut waits for its segments) then
    # never holds the slots those jobs need.
    own_consumer: frozenset[str] = frozenset()
    # Slots of a kind's own consumer (default: settings.job_concurrency), e.g. one segment
    # encode per usable core.
    slots: dict[str, int] = field(default_factory=dict)
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Called when the service stops, before its job runners hand their jobs back.
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Called with (owner_id, drama_id) once per `drama.deleted` event, at least once: each
    # must forget everything the service holds for that drama (documents and media), and do
    # nothing the second time.
    on_drama_deleted: list[DramaCleanup] = field(default_factory=list)


Builder = Callable[[Platform], ServiceParts]


def consumer_spec(
    settings: Settings, service: str, kinds: tuple[str, ...] = (), *, durable: str = ""
) -> ConsumerSpec:
    """The durable consumer of a service's jobs: all of them (`jobs.<service>.>`), or only
    `kinds` when some kinds have a consumer of their own."""
    return ConsumerSpec(
        durable=durable or f"{service}-workers",
        filter_subject=f"jobs.{service}.>",
        filter_subjects=tuple(job_subject(service, kind) for kind in kinds),
        ack_wait=settings.job_ack_wait_s,
        max_deliver=settings.job_max_deliver,
        backoff=tuple(settings.job_backoff_s),
    )


def job_runners(platform: Platform, parts: ServiceParts) -> list[JobRunner]:
    """One runner for the service's shared consumer, then one per kind in `own_consumer`
    (started in that order: the shared consumer stops overlapping their subjects first)."""
    settings = platform.settings
    shared = {k: h for k, h in parts.handlers.items() if k not in parts.own_consumer}
    specs: list[tuple[ConsumerSpec, dict[str, Handler], int]] = []
    if shared:
        kinds = tuple(sorted(shared)) if parts.own_consumer else ()
        specs.append((consumer_spec(settings, parts.name, kinds), shared, settings.job_concurrency))
    for kind in sorted(parts.own_consumer):
        durable = f"{parts.name}-{kind}-workers"
        spec = consumer_spec(settings, parts.name, (kind,), durable=durable)
        slots = parts.slots.get(kind, settings.job_concurrency)
        specs.append((spec, {kind: parts.handlers[kind]}, slots))
    return [
        JobRunner(
            platform.bus,
            platform.tasks,
            spec,
            handlers,
            concurrency=slots,
            heartbeat_s=settings.task_heartbeat_s,
        )
        for spec, handlers, slots in specs
    ]


class RunningService:
    def __init__(self, platform: Platform, parts: ServiceParts, *, host: str, port: int) -> None:
        self.platform = platform
        self.parts = parts
        self.grpc = GrpcServer(
            parts.name, parts.registrars, parts.service_names, host=host, port=port
        )
        self.runners = job_runners(platform, parts)
        # The shared consumer's runner (None for a service without jobs).
        self.runner: JobRunner | None = self.runners[0] if self.runners else None
        self.reaper: TaskReaper | None = None
        if parts.handlers:
            settings = platform.settings
            self.reaper = TaskReaper(
                platform.tasks,
                platform.bus,
                service=parts.name,
                max_deliver=settings.job_max_deliver,
                stale_after_s=settings.task_stale_after_s,
                interval_s=settings.task_reaper_interval_s,
            )
        self.drama_events: DomainEventConsumer | None = None
        if parts.on_drama_deleted:
            self.drama_events = DomainEventConsumer(
                platform.bus,
                durable=f"{parts.name}-drama-deleted",
                subject=DRAMA_DELETED,
                handler=self._forget_drama,
            )
        self._readiness: asyncio.Task[None] | None = None
        self._lag_watch: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        return self.grpc.address

    async def _forget_drama(self, event: dict[str, Any]) -> None:
        owner_id, drama_id = str(event["owner_id"]), str(event["drama_id"])
        for cleanup in self.parts.on_drama_deleted:
            await cleanup(owner_id, drama_id)
        log.info("drama.forgotten", service=self.parts.name, drama_id=drama_id)

    async def start(self) -> None:
        for step in self.parts.on_start:
            await step()
        await self.grpc.start()
        for runner in self.runners:
            await runner.start()
        if self.runner is not None:
            self._lag_watch = watch_consumer_lag(self.platform.bus, self.runner.spec.durable)
        if self.reaper is not None:
            await self.reaper.start()
        if self.drama_events is not None:
            await self.drama_events.start()
        await self.grpc.set_serving(await self.platform.ready())
        self._readiness = asyncio.create_task(self._watch_readiness())

    async def _watch_readiness(self) -> None:
        while True:
            raise_if_cancelling()
            await asyncio.sleep(5)
            await self.grpc.set_serving(await self.platform.ready())

    async def stop(self, grace: float = 10.0) -> None:
        if self._readiness is not None:
            self._readiness.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._readiness
        await stop_watch(self._lag_watch)
        await self.grpc.health.enter_graceful_shutdown()
        if self.reaper is not None:
            await self.reaper.stop()
        if self.drama_events is not None:
            await self.drama_events.stop()
        for step in self.parts.on_stop:
            await step()
        # In parallel: each runner hands its in-flight jobs back within the same grace.
        await asyncio.gather(*(runner.stop(grace) for runner in self.runners))
        await self.grpc.stop(grace=min(grace, 5.0))


def wait_for_signal() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT: the start of a graceful shutdown."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def serve(name: str, build: Builder, settings: Settings | None = None) -> None:
    """A standalone deployable, configured only by environment."""
    settings = settings or Settings()
    configure_logging(settings.log_level, json=settings.log_json)
    check_at_start_up(settings.providers)
    configure_tracing(settings, f"storyreel-{name}")
    favour_event_loop(
        asyncio.get_running_loop(),
        work_nice=settings.work_nice,
        switch_ms=settings.gil_switch_interval_ms,
    )
    start_metrics_server(settings.metrics_port, settings.grpc_host)
    stop = wait_for_signal()
    nats: BundledNatsServer | None = None
    nats_url = settings.nats_url
    if nats_url is None:
        log.warning("runtime.bundled_nats", reason="STORYREEL_NATS_URL is not set")
        nats = await BundledNatsServer(settings.data_dir / "nats").start()
        nats_url = nats.url
    platform = await open_platform(settings, nats_url, name=f"storyreel-{name}")
    service = RunningService(
        platform,
        build(platform),
        host=settings.grpc_host,
        port=settings.grpc_port or DEFAULT_PORTS[name],
    )
    await service.start()
    log.info("service.ready", service=name, address=service.address)
    await stop.wait()
    log.info("service.stopping", service=name)
    await service.stop()
    await platform.close()
    if nats is not None:
        nats.stop()


def run(name: str, build: Builder) -> None:
    limit_malloc_arenas()  # before the worker threads start
    asyncio.run(serve(name, build))
