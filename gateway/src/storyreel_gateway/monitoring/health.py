"""One health report: each dependency probed in parallel with a short deadline.

Services answer the standard `grpc.health.v1.Health/Check` (every StoryReel gRPC server
registers it, see `storyreel_core.rpc.server`); the document store, object store and bus are
asked for something cheap. A dependency is `up`, `down` (with the error) or `off` (the bus of a
gateway started without `STORYREEL_NATS_URL`: realtime is off, the REST API still works).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from storyreel_gateway.state import GatewayState

PROBE_TIMEOUT_S = 2.0
SERVING = health_pb2.HealthCheckResponse.SERVING


def gateway_version() -> str:
    try:
        return version("storyreel-gateway")
    except PackageNotFoundError:  # a source tree without an installed distribution
        return "0.0.0"


async def _timed(probe: Callable[[], Awaitable[None]], timeout: float) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), timeout)
    except TimeoutError:
        return {"status": "down", "error": f"no answer within {timeout:g} s"}
    except Exception as exc:
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"status": "up", "latency_ms": round((time.perf_counter() - start) * 1000, 1)}


async def check_service(channel: grpc.aio.Channel, timeout: float) -> dict[str, Any]:
    """`Health/Check` for the whole server (service ""): up only when it says SERVING."""
    stub = health_pb2_grpc.HealthStub(channel)

    async def probe() -> None:
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        if reply.status != SERVING:
            name = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            raise RuntimeError(f"health status {name}")

    return await _timed(probe, timeout + 0.5)


async def health_report(state: GatewayState, timeout: float = PROBE_TIMEOUT_S) -> dict[str, Any]:
    """`{status: healthy|unhealthy, version, timestamp, dependencies: {document_store,
    object_store, bus, services: {name: {status, latency_ms | error}}}}`."""

    async def docs() -> None:
        await state.docs.find_one("users", {"_id": "health-probe"})

    async def objects() -> None:
        await state.objects.stat("health/probe")

    async def bus() -> None:
        assert state.bus is not None
        if not await state.bus.ping():
            raise RuntimeError("not connected to NATS")

    names = list(state.stubs.by_service)
    checks = [
        _timed(docs, timeout),
        _timed(objects, timeout),
        *(check_service(state.stubs.by_service[n], timeout) for n in names),
    ]
    if state.bus is not None:
        checks.append(_timed(bus, timeout))
    results = await asyncio.gather(*checks)
    bus_state: dict[str, Any] = results[-1] if state.bus is not None else {"status": "off"}
    services = dict(zip(names, results[2 : 2 + len(names)], strict=True))
    deps: dict[str, Any] = {
        "document_store": results[0],
        "object_store": results[1],
        "bus": bus_state,
        "services": services,
    }
    down = [k for k in ("document_store", "object_store", "bus") if deps[k]["status"] == "down"]
    down += [f"services.{n}" for n, s in services.items() if s["status"] == "down"]
    return {
        "status": "unhealthy" if down else "healthy",
        "version": gateway_version(),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "down": down,
        "dependencies": deps,
    }
