"""AppError ⇄ gRPC status, in one place: servers abort with it, clients rebuild the AppError.

The business code and field ride in trailing metadata so the gateway answers with exactly the
envelope the service meant, whatever gRPC status carried it.
"""

from __future__ import annotations

import grpc

from storyreel_core.errors import AppError, Code

CODE_KEY = "x-storyreel-code"
FIELD_KEY = "x-storyreel-field"
USER_KEY = "x-storyreel-user"

_TO_GRPC: dict[Code, grpc.StatusCode] = {
    Code.VALIDATION: grpc.StatusCode.INVALID_ARGUMENT,
    Code.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    Code.EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    Code.FORBIDDEN: grpc.StatusCode.PERMISSION_DENIED,
    Code.RATE_LIMITED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Code.TOKEN_INVALID: grpc.StatusCode.UNAUTHENTICATED,
    Code.TOKEN_EXPIRED: grpc.StatusCode.UNAUTHENTICATED,
    Code.UNSUPPORTED_FILE: grpc.StatusCode.INVALID_ARGUMENT,
    Code.FILE_TOO_LARGE: grpc.StatusCode.INVALID_ARGUMENT,
    Code.AI_TIMEOUT: grpc.StatusCode.DEADLINE_EXCEEDED,
    Code.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
}

_FROM_GRPC: dict[grpc.StatusCode, Code] = {
    grpc.StatusCode.INVALID_ARGUMENT: Code.VALIDATION,
    grpc.StatusCode.NOT_FOUND: Code.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS: Code.EXISTS,
    grpc.StatusCode.ABORTED: Code.EXISTS,
    grpc.StatusCode.PERMISSION_DENIED: Code.FORBIDDEN,
    grpc.StatusCode.RESOURCE_EXHAUSTED: Code.RATE_LIMITED,
    grpc.StatusCode.UNAUTHENTICATED: Code.TOKEN_INVALID,
    grpc.StatusCode.UNAVAILABLE: Code.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: Code.UNAVAILABLE,
}


def to_grpc(error: AppError) -> tuple[grpc.StatusCode, tuple[tuple[str, str], ...]]:
    status = _TO_GRPC.get(error.code, grpc.StatusCode.INTERNAL)
    trailers = ((CODE_KEY, str(int(error.code))), (FIELD_KEY, error.field or ""))
    return status, trailers


def from_rpc_error(exc: grpc.aio.AioRpcError) -> AppError:
    trailers = {k: v for k, v in (exc.trailing_metadata() or ()) if isinstance(v, str)}
    status = exc.code()
    message = exc.details() or status.name.lower()
    if CODE_KEY in trailers:
        code = Code(int(trailers[CODE_KEY]))
    else:
        code = _FROM_GRPC.get(status, Code.GENERAL)
    if status in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        code = Code.UNAVAILABLE
        message = f"service unavailable: {message}"
    return AppError(message, code=code, field=trailers.get(FIELD_KEY) or None)
