"""A peer's gRPC error comes back as the AppError subclass of its business code."""

from __future__ import annotations

import grpc
import pytest

from storyreel_core.errors import (
    AlreadyExists,
    AppError,
    Code,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from storyreel_core.rpc.status_map import from_rpc_error, to_grpc


def _over_the_wire(error: AppError) -> grpc.aio.AioRpcError:
    """The error as a client sees it after a server aborted with `to_grpc(error)`."""
    status, trailers = to_grpc(error)
    return grpc.aio.AioRpcError(
        status, grpc.aio.Metadata(), grpc.aio.Metadata(*trailers), details=error.message
    )


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (NotFound("drama d1 not found", field="drama_id"), NotFound),
        (ValidationFailed("name is empty", field="name"), ValidationFailed),
        (AlreadyExists("a drama named 'x' already exists", field="name"), AlreadyExists),
        (AppError("no", code=Code.FORBIDDEN, field="owner"), AppError),
        (AppError("model refused", code=Code.AI_FILTERED), AppError),
    ],
)
def test_peer_error_is_rebuilt_as_its_subclass(sent: AppError, expected: type[AppError]) -> None:
    got = from_rpc_error(_over_the_wire(sent))
    assert type(got) is expected
    assert (got.code, got.message, got.field, got.reason) == (
        sent.code,
        sent.message,
        sent.field,
        sent.message,
    )


def test_version_conflict_arrives_as_already_exists() -> None:
    """Both share code 1003; the caller can still tell them apart by the field."""
    sent = AppError("stale", code=Code.EXISTS, field="version")
    got = from_rpc_error(_over_the_wire(sent))
    assert isinstance(got, AlreadyExists) and got.field == "version"


@pytest.mark.parametrize(
    ("status", "expected", "code"),
    [
        (grpc.StatusCode.NOT_FOUND, NotFound, Code.NOT_FOUND),
        (grpc.StatusCode.INVALID_ARGUMENT, ValidationFailed, Code.VALIDATION),
        (grpc.StatusCode.UNAVAILABLE, ServiceUnavailable, Code.UNAVAILABLE),
        (grpc.StatusCode.DEADLINE_EXCEEDED, ServiceUnavailable, Code.UNAVAILABLE),
        (grpc.StatusCode.INTERNAL, AppError, Code.GENERAL),
    ],
)
def test_grpc_own_status_gets_the_class_of_its_code(
    status: grpc.StatusCode, expected: type[AppError], code: Code
) -> None:
    """No trailers: gRPC itself failed; its details stay out of the message."""
    raw = grpc.aio.AioRpcError(
        status, grpc.aio.Metadata(), grpc.aio.Metadata(), details="ipv4:10.0.0.7:50051 said no"
    )
    got = from_rpc_error(raw)
    assert type(got) is expected
    assert got.code == code
    assert "10.0.0.7" not in got.message


def test_transport_failure_with_trailers_is_still_unavailable() -> None:
    """A deadline hit after the peer set its trailers is the transport's failure, not its."""
    _, trailers = to_grpc(NotFound("gone"))
    raw = grpc.aio.AioRpcError(
        grpc.StatusCode.DEADLINE_EXCEEDED, grpc.aio.Metadata(), grpc.aio.Metadata(*trailers)
    )
    assert isinstance(from_rpc_error(raw), ServiceUnavailable)
