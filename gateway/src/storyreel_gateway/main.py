"""`storyreel-gateway`: the gateway on its own, reaching services at configured addresses."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn

from storyreel_core.cpu_priority import favour_event_loop
from storyreel_core.logging import configure_logging, get_logger
from storyreel_core.malloc_arenas import limit_malloc_arenas
from storyreel_core.providers.config import check_at_start_up
from storyreel_core.service_runtime import wait_for_signal
from storyreel_core.settings import Settings
from storyreel_gateway.app import create_app
from storyreel_gateway.auth.admin_seed import check_admin_at_start_up

log = get_logger("storyreel.gateway")


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling, which re-raises SIGTERM after a clean stop.

    The process then dies "by signal" (exit 143), which orchestrators report as a crash; we
    catch the signal ourselves, let uvicorn finish in-flight requests, and exit 0.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: Settings) -> None:
    favour_event_loop(
        asyncio.get_running_loop(),
        work_nice=settings.work_nice,
        switch_ms=settings.gil_switch_interval_ms,
    )
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        ws="websockets-sansio",
        # Frames are small JSON, made once for every socket; compressing them per socket
        # (each has its own deflate context) would cost CPU on every send of a push.
        ws_per_message_deflate=False,
    )
    server = _Server(config)
    stop = wait_for_signal()
    serving = asyncio.create_task(server.serve())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    log.info("gateway.stopping")
    server.should_exit = True
    stopping.cancel()
    await serving


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, json=settings.log_json)
    check_at_start_up(settings.providers)
    check_admin_at_start_up(settings)
    limit_malloc_arenas()  # before the worker threads start
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
