"""Helpers the test suites of every package share: real servers on free loopback ports."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from storyreel_core.bus.nats_server import BundledNatsServer, free_port

__all__ = ["BundledNatsServer", "eventually", "free_port", "start_nats"]


async def start_nats(tmp: Path) -> BundledNatsServer:
    return await BundledNatsServer(tmp / "nats").start()


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 20.0, interval: float = 0.1
) -> None:
    """Wait until `check()` is true; fail with a clear message when it never becomes true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
