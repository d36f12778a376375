"""A service's gRPC server: its servicers, standard health checking, reflection, error mapping.

Health starts NOT_SERVING and flips to SERVING once the service's store and bus answer;
`stop()` flips it back first (`enter_graceful_shutdown`) so Kubernetes stops routing before the
server drains.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypedDict

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from storyreel_core.errors import AppError
from storyreel_core.ids import is_id
from storyreel_core.logging import get_logger
from storyreel_core.rpc.status_map import PARENT_KEY, TASK_KEY, USER_KEY, to_grpc
from storyreel_core.telemetry.rpc import server_interceptors

MAX_MESSAGE_BYTES = 32 * 1024 * 1024

log = get_logger("storyreel.grpc")

Registrar = Callable[[grpc.aio.Server], None]


class ErrorInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Turn AppError into a status with trailers; anything else is logged and INTERNAL."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        method = handler_call_details.method

        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                return await inner(request, context)
            except AppError as exc:
                status, trailers = to_grpc(exc)
                context.set_trailing_metadata(trailers)
                await context.abort(status, exc.message)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                log.exception("grpc.unhandled", method=method, error=str(exc))
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")

        return grpc.unary_unary_rpc_method_handler(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def caller_id(context: grpc.aio.ServicerContext[Any, Any]) -> str:
    """The user the gateway authenticated; services trust it only from inside the mesh."""
    for key, value in context.invocation_metadata() or ():
        if key == USER_KEY and isinstance(value, str) and value:
            return value
    raise AppError("no caller identity", field=USER_KEY)


class StageTask(TypedDict):
    task_id: str | None
    parent_id: str | None


def stage_task(context: grpc.aio.ServicerContext[Any, Any]) -> StageTask:
    """`task_id` and `parent_id` for `TaskLauncher.start` when the caller runs this start as a
    stage of its own work (metadata TASK_KEY/PARENT_KEY), else both None (a task of its own).
    A task id not in the platform's id format is refused (1001)."""
    found: StageTask = {"task_id": None, "parent_id": None}
    for key, value in context.invocation_metadata() or ():
        if key == TASK_KEY and isinstance(value, str) and value:
            if not is_id(value, "task"):
                raise AppError("malformed stage task id", field=TASK_KEY)
            found["task_id"] = value
        elif key == PARENT_KEY and isinstance(value, str) and value:
            found["parent_id"] = value[:100]
    return found


class GrpcServer:
    def __init__(
        self,
        name: str,
        registrars: Iterable[Registrar],
        service_names: Iterable[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.name = name
        # Tracing and timing wrap the error mapping, so they see the status it aborts with.
        self.server = grpc.aio.server(
            interceptors=[*server_interceptors(), ErrorInterceptor()],
            # Above the largest request body the gateway accepts (8 MiB, json_body.py), so a
            # request the gateway took is never refused by gRPC's 4 MiB default.
            options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)],
        )
        for register in registrars:
            register(self.server)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names = list(service_names)
        reflection.enable_server_reflection(
            [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
        )
        self.port = self.server.add_insecure_port(f"{host}:{port}")
        self.address = f"{host}:{self.port}"

    async def start(self) -> None:
        await self.server.start()
        log.info("grpc.started", service=self.name, address=self.address)

    async def set_serving(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ["", *self.service_names]:
            await self.health.set(name, status)

    async def stop(self, grace: float = 5.0) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        log.info("grpc.stopped", service=self.name)
