"""AppError ⇄ gRPC status, in one place: servers abort with it, clients rebuild the AppError.

The business code and field ride in trailing metadata so the gateway answers with exactly the
envelope the service meant, whatever gRPC status carried it.
"""

from __future__ import annotations

import grpc

from storyreel_core.errors import (
    AlreadyExists,
    AppError,
    Code,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from storyreel_core.logging import get_logger

_log = get_logger("storyreel.rpc")
_TRANSPORT = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)

CODE_KEY = "x-storyreel-code"
FIELD_KEY = "x-storyreel-field"
USER_KEY = "x-storyreel-user"
# A caller that runs work as stages of its own (the workflow) names the task a start RPC is to
# create and its parent: the call becomes idempotent (a repeated start finds the same task) and
# the task counts as part of admitted work (no per-user limit). Trusted from inside the mesh
# only, like USER_KEY; the gateway never sends them.
TASK_KEY = "x-storyreel-task-id"
PARENT_KEY = "x-storyreel-parent-id"

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


# The AppError subclass a business code is raised as, so that a caller's `except NotFound:`
# around a gRPC call catches a peer's NotFound as it would a local one. A code without a class
# of its own (AI_ERROR, FORBIDDEN, …) comes back as a plain AppError carrying that code.
_ERROR_CLASS: dict[Code, type[AppError]] = {
    Code.VALIDATION: ValidationFailed,
    Code.NOT_FOUND: NotFound,
    Code.EXISTS: AlreadyExists,
    Code.UNAVAILABLE: ServiceUnavailable,
}


def app_error(message: str, code: Code, field: str | None) -> AppError:
    """`code`'s AppError subclass (NotFound for 1002, …; plain AppError otherwise), with
    `code`, `field` and `message` (also the reason) set as given."""
    return _ERROR_CLASS.get(code, AppError)(message, code=code, field=field)


def to_grpc(error: AppError) -> tuple[grpc.StatusCode, tuple[tuple[str, str], ...]]:
    status = _TO_GRPC.get(error.code, grpc.StatusCode.INTERNAL)
    trailers = ((CODE_KEY, str(int(error.code))), (FIELD_KEY, error.field or ""))
    return status, trailers


# What a client is told when gRPC itself failed (no AppError behind the status): its details
# name addresses, metadata and message sizes, which are logged, never answered.
_GENERIC: dict[Code, str] = {
    Code.VALIDATION: "the request could not be processed",
    Code.NOT_FOUND: "not found",
    Code.FILE_TOO_LARGE: "the request is too large for the service",
    Code.UNAVAILABLE: "service unavailable, try again later",
}


def from_rpc_error(exc: grpc.aio.AioRpcError) -> AppError:
    """The AppError a service raised, rebuilt from its status and trailers as the subclass of
    its code (`NotFound` for 1002, `ValidationFailed`, `AlreadyExists`, `ServiceUnavailable`;
    a plain AppError for the others), so `except NotFound:` after a call works.

    A status without our trailers comes from gRPC itself (a message over the size limit, bad
    metadata, a peer that is down): its details are logged and the client gets a generic
    message for the code, never gRPC's text.
    """
    trailers = {k: v for k, v in (exc.trailing_metadata() or ()) if isinstance(v, str)}
    status = exc.code()
    if CODE_KEY in trailers and status not in _TRANSPORT:
        message = exc.details() or status.name.lower()
        return app_error(message, Code(int(trailers[CODE_KEY])), trailers.get(FIELD_KEY) or None)
    if status == grpc.StatusCode.RESOURCE_EXHAUSTED:
        code = Code.FILE_TOO_LARGE  # gRPC's own RESOURCE_EXHAUSTED: a message over the limit
    elif status in _TRANSPORT:
        code = Code.UNAVAILABLE
    else:
        code = _FROM_GRPC.get(status, Code.GENERAL)
    _log.warning("rpc.failed", status=status.name, error=exc.details() or "")
    message = _GENERIC.get(code, "internal error")
    return app_error(message, code, trailers.get(FIELD_KEY) or None)
