"""`storyreel up`: the whole platform in one process (embedded mode).

The bundled nats-server runs as a child with JetStream under ./data; every service gets its own
gRPC server on a loopback port and its own job runner; the gateway serves HTTP. They share one
SQLite file and one media folder. Ctrl-C (or SIGTERM) stops the gateway, then every service
gracefully, then the nats-server child.
"""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn

from storyreel_asset.service import build as build_asset
from storyreel_core.bus.nats_server import BundledNatsServer
from storyreel_core.cpu_priority import favour_event_loop
from storyreel_core.logging import configure_logging, get_logger
from storyreel_core.malloc_arenas import limit_malloc_arenas
from storyreel_core.platform import open_platform
from storyreel_core.providers.config import check_at_start_up
from storyreel_core.service_runtime import Builder, RunningService
from storyreel_core.settings import Settings
from storyreel_core.telemetry.tracing import configure_tracing
from storyreel_gateway.app import build_state, create_app
from storyreel_gateway.auth.admin_seed import check_admin_at_start_up
from storyreel_script.service import build as build_script
from storyreel_storyboard.service import build as build_storyboard
from storyreel_tts.service import build as build_tts
from storyreel_video.service import build as build_video
from storyreel_workflow.service import build as build_workflow

log = get_logger("storyreel.embedded")

STAGE_SERVICES: dict[str, Builder] = {
    "script": build_script,
    "storyboard": build_storyboard,
    "asset": build_asset,
    "tts": build_tts,
    "video": build_video,
}


async def run_embedded(settings: Settings) -> None:
    # Once for the whole process, before any service or the gateway: one service.name.
    configure_tracing(settings, "storyreel")
    # The gateway shares this process (and its GIL) with every stage's work: its event loop
    # goes first (worker threads niced, a short GIL switch interval).
    favour_event_loop(
        asyncio.get_running_loop(),
        work_nice=settings.work_nice,
        switch_ms=settings.gil_switch_interval_ms,
    )
    nats = await BundledNatsServer(settings.data_dir / "nats").start()
    platform = await open_platform(settings, settings.nats_url or nats.url, name="storyreel")
    services: list[RunningService] = []
    try:
        addresses: dict[str, str] = {}
        for name, build in STAGE_SERVICES.items():
            service = RunningService(platform, build(platform), host="127.0.0.1", port=0)
            services.append(service)
            addresses[f"{name}_addr"] = service.address
        # The workflow dials the stage services, and the gateway the workflow, at the ports
        # they were just given.
        settings = settings.model_copy(update=addresses)
        platform.settings = settings
        workflow = RunningService(platform, build_workflow(platform), host="127.0.0.1", port=0)
        services.append(workflow)
        settings = settings.model_copy(update={"workflow_addr": workflow.address})
        for service in services:
            await service.start()
        state = await build_state(
            settings, docs=platform.docs, objects=platform.objects, bus=platform.bus
        )
        app = create_app(settings, state)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            lifespan="on",
            ws="websockets-sansio",
            # Frames are small JSON, made once for every socket; compressing them per socket
            # (each has its own deflate context) would cost CPU on every send of a push.
            ws_per_message_deflate=False,
        )
        server = uvicorn.Server(config)
        log.info(
            "storyreel.ready",
            url=f"http://{settings.host}:{settings.port}",
            data_dir=str(settings.data_dir),
        )
        await server.serve()
    finally:
        log.info("storyreel.stopping")
        for service in reversed(services):
            with contextlib.suppress(Exception):
                await service.stop(grace=5.0)
        await platform.close()
        nats.stop()


def up(settings: Settings | None = None) -> None:
    settings = settings or Settings()
    configure_logging(settings.log_level, json=settings.log_json)
    check_at_start_up(settings.providers)
    check_admin_at_start_up(settings)
    limit_malloc_arenas()  # before the worker threads start
    asyncio.run(run_embedded(settings))
