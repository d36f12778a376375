"""One trace follows a request: REST → gRPC → JetStream message → the worker's job span.

The gateway app and the script service run in this process (so an in-memory exporter sees
every span) but talk as they do in production: HTTP into FastAPI, gRPC over loopback to the
script service, a JetStream job message through a real nats-server to the script worker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind

from storyreel_core.platform import Platform, open_platform
from storyreel_core.service_runtime import RunningService
from storyreel_core.settings import Settings
from storyreel_core.telemetry.testing import memory_exporter
from storyreel_core.testing import eventually, start_nats
from storyreel_gateway.app import build_state, create_app
from storyreel_script.service import build as build_script

GENERATE = "POST /api/v1/dramas/{drama_id}/scripts/generate"
GENERATE_RPC = "/storyreel.v1.ScriptService/GenerateScript"


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Platform]]:
    nats = await start_nats(tmp_path)
    settings = Settings(data_dir=tmp_path)
    platform = await open_platform(settings, nats.url, name="trace-test")
    script = RunningService(platform, build_script(platform), host="127.0.0.1", port=0)
    await script.start()
    settings = settings.model_copy(update={"script_addr": script.address})
    state = await build_state(settings, docs=platform.docs, objects=platform.objects)
    app = create_app(settings, state)
    app.state.gateway = state  # what the lifespan does; ASGITransport does not run lifespans
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
    try:
        yield client, platform
    finally:
        await client.aclose()
        await state.stubs.close()
        await script.stop(grace=1.0)
        await platform.close()
        nats.stop()


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain: list[ReadableSpan] = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


async def test_one_trace_links_rest_grpc_jetstream_and_worker(
    stack: tuple[httpx.AsyncClient, Platform],
) -> None:
    client, platform = stack
    exporter = memory_exporter()
    r = await client.post(
        "/api/v1/auth/register",
        json={"username": "tracer", "email": "tracer@example.com", "password": "pass-word-1"},
    )
    assert r.status_code == 201, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['data']['access_token']}"
    r = await client.post("/api/v1/dramas", json={"name": "Traced"})
    assert r.status_code == 201, r.text
    drama_id = r.json()["data"]["id"]
    exporter.clear()

    r = await client.post(
        f"/api/v1/dramas/{drama_id}/scripts/generate",
        json={"prompt": "A lighthouse keeper finds a letter in a bottle.", "language": "en"},
    )
    assert r.status_code == 202, r.text
    task_id = r.json()["data"]["task_id"]

    async def done() -> bool:
        return (await platform.tasks.get(task_id))["status"] == "completed"

    await eventually(done, timeout=60)

    def job_span() -> list[ReadableSpan]:
        return [
            s
            for s in exporter.get_finished_spans()
            if s.kind == SpanKind.CONSUMER and (s.attributes or {}).get("task_id") == task_id
        ]

    async def job_finished() -> bool:
        return bool(job_span())

    await eventually(job_finished, timeout=10)
    spans = exporter.get_finished_spans()
    (rest,) = [s for s in spans if s.name == GENERATE and s.kind == SpanKind.SERVER]
    assert rest.context is not None
    trace_id = rest.context.trace_id
    in_trace = {s.context.span_id: s for s in spans if s.context and s.context.trace_id == trace_id}

    (rpc_client,) = [
        s for s in in_trace.values() if s.name == GENERATE_RPC and s.kind == SpanKind.CLIENT
    ]
    (rpc_server,) = [
        s for s in in_trace.values() if s.name == GENERATE_RPC and s.kind == SpanKind.SERVER
    ]
    (job,) = job_span()
    assert job.context is not None and job.context.trace_id == trace_id
    # gRPC: the server span is the client span's child; the client call runs inside the request.
    assert rpc_server.parent is not None and rpc_server.parent.span_id == rpc_client.context.span_id
    assert rest in _ancestors(rpc_client, in_trace)
    # JetStream: the worker's span continues the context the gRPC handler put in the headers.
    assert rpc_server in _ancestors(job, in_trace)
    assert job.attributes is not None and job.attributes["messaging.system"] == "nats"
    assert job.attributes["task.status"] == "completed"
