"""Channels to the services with deadlines, retries on UNAVAILABLE and identity in metadata."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from storyreel_core.rpc.status_map import PARENT_KEY, TASK_KEY, USER_KEY, from_rpc_error
from storyreel_core.telemetry.rpc import client_interceptors

Resp = TypeVar("Resp")

# gRPC's own retry policy: transparent, bounded, only for UNAVAILABLE (the call never ran).
_SERVICE_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "1s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


def open_channel(address: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        address,
        options=[
            ("grpc.service_config", _SERVICE_CONFIG),
            ("grpc.enable_retries", 1),
            # A peer that crashed and came back is found again within 2 s: gRPC's default
            # reconnect backoff grows to 120 s, so a restarted service (the task API's, say)
            # would answer 503 for minutes after it is up.
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.min_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 2000),
            ("grpc.max_receive_message_length", 32 * 1024 * 1024),
        ],
        interceptors=client_interceptors(),  # a span per call, traceparent in metadata
    )


async def call(
    method: Callable[..., Awaitable[Resp]],
    request: Any,
    *,
    user_id: str,
    timeout: float = 10.0,
    task_id: str = "",
    parent_id: str = "",
) -> Resp:
    """Call a unary method as `user_id`; gRPC failures come back as AppError.

    `task_id`/`parent_id` (a start RPC called as a stage of other work) name the task the call
    creates and its parent, so calling again starts nothing new (see `rpc.server.stage_task`)."""
    metadata = [(USER_KEY, user_id)]
    if task_id:
        metadata.append((TASK_KEY, task_id))
    if parent_id:
        metadata.append((PARENT_KEY, parent_id))
    try:
        return await method(request, metadata=tuple(metadata), timeout=timeout)
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc) from exc
