"""The success envelope of seed 000 and the pagination block lists add."""

from __future__ import annotations

import math
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class Pagination(BaseModel):
    page: int
    per_page: int
    total: int
    total_pages: int


class Envelope(BaseModel, Generic[T]):
    code: int = 0
    message: str = "success"
    data: T


class ListEnvelope(BaseModel, Generic[T]):
    code: int = 0
    message: str = "success"
    data: list[T]
    pagination: Pagination


class ErrorDetail(BaseModel):
    field: str | None = None
    reason: str


class ErrorEnvelope(BaseModel):
    code: int
    message: str
    error: ErrorDetail


def ok(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "success", "data": data}


def paged(items: list[Any], *, page: int, per_page: int, total: int) -> dict[str, Any]:
    return {
        "code": 0,
        "message": "success",
        "data": items,
        "pagination": {
            "page": page,
            "per_page": per_page,
            "total": total,
            "total_pages": math.ceil(total / per_page) if per_page else 0,
        },
    }


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope} for status in (400, 401, 404, 409, 413, 415, 422, 429, 503)
}
