"""Import a service's heavy, lazily imported libraries at start-up, in a worker thread.

Some libraries are imported inside the functions that use them (Piper and onnxruntime, PIL's
image plugins, fontTools), so a process that never needs them never pays for them. Imported
that way, the first job pays instead, in the middle of a render: an import compiles and runs
Python under the GIL in long stretches that the switch interval cannot break up (with no
bytecode cache, compiling one module can hold it for tens of milliseconds), and in the
embedded platform the gateway's realtime pushes waited behind them (stalls of 0.5 s were seen).
`import_in_background` imports them once the service starts, off the event loop and at the
work niceness (`storyreel_core.cpu_priority`); the service is ready at once, without waiting.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable

from storyreel_core.logging import get_logger

log = get_logger(__name__)

# What PIL imports when it first opens or saves an image (`PIL.Image.preinit`).
PIL_PLUGINS = tuple(f"PIL.{name}ImagePlugin" for name in ("Bmp", "Gif", "Jpeg", "Ppm", "Png"))

# The imports still running, so that they are neither collected nor left unobserved.
_pending: set[asyncio.Future[None]] = set()


def _import_all(modules: tuple[str, ...]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # an optional engine missing: the job that needs it says so
            log.info("warm_imports.skipped", module=name, error=repr(exc))


def import_in_background(*modules: str) -> Callable[[], Awaitable[None]]:
    """A `ServiceParts.on_start` step that imports `modules` (dotted names) in the default
    executor and returns without waiting. A module that fails to import is logged and left
    to fail where it is used."""

    async def start() -> None:
        future = asyncio.get_running_loop().run_in_executor(None, _import_all, modules)
        _pending.add(future)
        future.add_done_callback(_pending.discard)

    return start


async def imports_done() -> None:
    """Wait for the imports started so far (for tests and orderly shutdowns)."""
    if _pending:
        await asyncio.gather(*_pending, return_exceptions=True)
