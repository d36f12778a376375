"""The backing services one deployable talks to, opened once and closed once.

Built in the entry point (or the embedded launcher, which shares one set among all services)
and handed down; nothing below opens its own connections.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.settings import Settings
from storyreel_core.stores.document_store import DocumentStore
from storyreel_core.stores.factory import open_document_store, open_object_store
from storyreel_core.stores.object_store import ObjectStore
from storyreel_core.task_launcher import TaskLauncher
from storyreel_core.task_store import TaskStore


@dataclass
class Platform:
    settings: Settings
    docs: DocumentStore
    objects: ObjectStore
    bus: JetStreamBus
    tasks: TaskStore
    launcher: TaskLauncher
    # The AI providers of the providers file (STORYREEL_PROVIDERS), loaded when the platform is
    # built, so a bad file stops start-up; its limits are shared by every job of the process.
    providers: ProviderRegistry = field(init=False)

    def __post_init__(self) -> None:
        self.providers = ProviderRegistry.from_settings(self.settings, self.objects)

    async def ready(self) -> bool:
        """Readiness: the store and the bus both answer. The store is asked for one document
        by id, the cheapest read there is (a count is an aggregation on MongoDB, and every
        service asks every 5 s)."""
        try:
            await self.docs.get("tasks", "task_readiness_probe")
        except Exception:
            return False
        return await self.bus.ping()

    async def close(self) -> None:
        await self.bus.close()
        await self.objects.close()
        await self.docs.close()


async def open_platform(settings: Settings, nats_url: str, *, name: str) -> Platform:
    docs = await open_document_store(settings)
    objects = await open_object_store(settings)
    bus = await JetStreamBus(nats_url, name=name).connect()
    await bus.ensure_streams()
    tasks = TaskStore(docs)
    await tasks.ensure_indexes()
    return Platform(
        settings=settings,
        docs=docs,
        objects=objects,
        bus=bus,
        tasks=tasks,
        launcher=TaskLauncher(tasks, bus, max_active_per_user=settings.max_active_tasks_per_user),
    )
