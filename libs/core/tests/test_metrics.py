"""Prometheus metrics appear after real work: jobs on a real nats-server, calls on a real server.

The registry is the process's (module-level metric objects), shared with every other test, so
each test reads a sample before and after its work and checks the difference; samples are read
back from the Prometheus text the endpoints serve, not from the metric objects.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from storyreel_core.bus.jetstream import ConsumerSpec, JetStreamBus
from storyreel_core.bus.job_runner import Job, JobContext, JobRunner, job_subject
from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.proto.storyreel.v1 import common_pb2, stages_pb2_grpc
from storyreel_core.rpc.clients import call, open_channel
from storyreel_core.rpc.server import GrpcServer
from storyreel_core.task_store import TaskStore
from storyreel_core.telemetry.metrics import start_metrics_server, stop_watch, watch_consumer_lag
from storyreel_core.testing import eventually, free_port


def sample(name: str, text: str | None = None, **labels: str) -> float:
    """One sample's value in Prometheus text (the default registry's now when no text given)."""
    text = text if text is not None else generate_latest().decode()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


SPEC = ConsumerSpec(
    durable="metered-workers", filter_subject="jobs.metered.>", ack_wait=1.0, backoff=(0.1,)
)


async def submit(bus: JetStreamBus, tasks: TaskStore, kind: str) -> str:
    task = await tasks.create(kind=kind, service="metered", owner_id="usr_1", payload={})
    body = {"task_id": task["_id"], "kind": kind, "owner_id": "usr_1", "payload": {}}
    await bus.publish_job(job_subject("metered", kind), body, msg_id=task["_id"])
    return str(task["_id"])


async def test_jobs_record_duration_and_task_transitions(
    bus: JetStreamBus, tasks: TaskStore
) -> None:
    async def ok(job: Job, ctx: JobContext) -> dict[str, Any]:
        await asyncio.sleep(0.05)
        return {}

    async def refuses(job: Job, ctx: JobContext) -> dict[str, Any]:
        raise ValidationFailed("no", field="x")

    labels = {"service": "metered", "kind": "ok"}
    before_count = sample("storyreel_job_duration_seconds_count", **labels)
    before_sum = sample("storyreel_job_duration_seconds_sum", **labels)
    before = {
        status: sample("storyreel_task_transitions_total", **labels, status=status)
        for status in ("running", "completed")
    }
    before_failed = sample(
        "storyreel_task_transitions_total", service="metered", kind="refuses", status="failed"
    )
    runner = JobRunner(bus, tasks, SPEC, {"ok": ok, "refuses": refuses})
    await runner.start()
    done = [await submit(bus, tasks, "ok") for _ in range(2)]
    failed = await submit(bus, tasks, "refuses")

    async def finished() -> bool:
        statuses = [(await tasks.get(t))["status"] for t in [*done, failed]]
        return statuses == ["completed", "completed", "failed"]

    await eventually(finished)
    await runner.stop()
    text = generate_latest().decode()
    assert sample("storyreel_job_duration_seconds_count", text, **labels) == before_count + 2
    assert sample("storyreel_job_duration_seconds_sum", text, **labels) >= before_sum + 0.1
    for status in ("running", "completed"):
        got = sample("storyreel_task_transitions_total", text, **labels, status=status)
        assert got == before[status] + 2, status
    assert (
        sample(
            "storyreel_task_transitions_total",
            text,
            service="metered",
            kind="refuses",
            status="failed",
        )
        == before_failed + 1
    )


async def test_consumer_lag_gauge_follows_the_backlog(bus: JetStreamBus, tasks: TaskStore) -> None:
    await bus.ensure_consumer(SPEC)
    for _ in range(3):
        await submit(bus, tasks, "ok")
    watch = watch_consumer_lag(bus, SPEC.durable, interval=0.1)

    async def lag_is(n: float) -> bool:
        return sample("storyreel_jetstream_consumer_lag", consumer=SPEC.durable) == n

    try:
        await eventually(lambda: lag_is(3))
        runner = JobRunner(bus, tasks, SPEC, {"ok": _noop})
        await runner.start()
        await eventually(lambda: lag_is(0))
        await runner.stop()
    finally:
        await stop_watch(watch)
    assert watch.cancelled()


async def _noop(job: Job, ctx: JobContext) -> dict[str, Any]:
    return {}


class Frames(stages_pb2_grpc.AssetServiceServicer):  # type: ignore[misc]
    async def RenderFrames(
        self, request: common_pb2.StageRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> common_pb2.TaskRef:
        if request.task_id == "missing":
            raise NotFound("no such task")
        return common_pb2.TaskRef(task_id=request.task_id, status="pending")


async def test_grpc_latency_by_method_and_code() -> None:
    servicer = Frames()
    server = GrpcServer(
        "asset",
        [lambda s: stages_pb2_grpc.add_AssetServiceServicer_to_server(servicer, s)],
        ["storyreel.v1.AssetService"],
    )
    await server.start()
    method = "/storyreel.v1.AssetService/RenderFrames"
    ok_before = sample("storyreel_grpc_server_handling_seconds_count", method=method, code="OK")
    nf_before = sample(
        "storyreel_grpc_server_handling_seconds_count", method=method, code="NOT_FOUND"
    )
    channel = open_channel(server.address)
    stub = stages_pb2_grpc.AssetServiceStub(channel)
    try:
        await call(stub.RenderFrames, common_pb2.StageRequest(task_id="t1"), user_id="usr_1")
        with pytest.raises(AppError) as failure:
            await call(
                stub.RenderFrames, common_pb2.StageRequest(task_id="missing"), user_id="usr_1"
            )
        assert failure.value.code == Code.NOT_FOUND  # the error mapping still works inside
    finally:
        await channel.close()
        await server.stop(grace=0.1)
    text = generate_latest().decode()
    count = "storyreel_grpc_server_handling_seconds_count"
    assert sample(count, text, method=method, code="OK") == ok_before + 1
    assert sample(count, text, method=method, code="NOT_FOUND") == nf_before + 1


async def test_standalone_metrics_endpoint_serves_the_registry() -> None:
    assert start_metrics_server(0) is False  # 0 = off
    port = free_port()
    assert start_metrics_server(port) is True
    async with httpx.AsyncClient() as client:
        r = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert r.status_code == 200
    assert "storyreel_job_duration_seconds" in r.text
    assert "storyreel_grpc_server_handling_seconds" in r.text
