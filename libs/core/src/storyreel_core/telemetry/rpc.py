"""gRPC interceptors: the official OpenTelemetry ones for spans, ours for latency metrics.

The server chain puts the span outermost, so the error interceptor's `abort` (inside it) lands
on the span as its status, then the timing, then the error mapping. Health checks and
reflection are left out of traces: probes every few seconds would bury the real requests.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor

from storyreel_core.telemetry.metrics import GRPC_SERVER_SECONDS

UNTRACED_SERVICES = ("grpc.health.v1.Health/", "grpc.reflection.")


def traced(details: Any) -> bool:
    """Filter for the OpenTelemetry interceptors: everything but health and reflection."""
    method = details.method
    if isinstance(method, bytes):  # grpc hands clients bytes (grpc/grpc#31092)
        method = method.decode()
    return not str(method).lstrip("/").startswith(UNTRACED_SERVICES)


def _code_name(context: grpc.aio.ServicerContext[Any, Any], default: str) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    return default if code is None else str(code)


class MetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Time every unary call by method and final status code."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        method = str(handler_call_details.method)

        async def timed(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            start = time.perf_counter()
            code = "OK"
            try:
                response = await inner(request, context)
                code = _code_name(context, "OK")
                return response
            except BaseException:
                code = _code_name(context, "UNKNOWN")
                raise
            finally:
                GRPC_SERVER_SECONDS.labels(method, code).observe(time.perf_counter() - start)

        return grpc.unary_unary_rpc_method_handler(
            timed,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    """To go before the service's own interceptors (outermost first)."""
    span = aio_server_interceptor(filter_=traced)  # type: ignore[no-untyped-call]
    return [span, MetricsInterceptor()]


def client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """A client span per call, and `traceparent` in its metadata for the server to continue."""
    return list(aio_client_interceptors(filter_=traced))  # type: ignore[no-untyped-call]
