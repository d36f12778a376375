"""One error type for the whole platform, mapped in one place to HTTP, gRPC and the envelope.

Domain code raises `AppError` (or a subclass); the gRPC layer turns it into a status with the
business code in trailing metadata, and the gateway turns that back into the HTTP status and the
`{"code", "message", "error": {"field", "reason"}}` envelope of seed 000.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class Code(IntEnum):
    """Business codes of seed 000 (appendix B)."""

    GENERAL = 1000
    VALIDATION = 1001
    NOT_FOUND = 1002
    EXISTS = 1003
    FORBIDDEN = 1004
    RATE_LIMITED = 1005
    TOKEN_INVALID = 1006
    TOKEN_EXPIRED = 1007
    AI_ERROR = 2001
    AI_TIMEOUT = 2002
    AI_QUOTA = 2003
    AI_FILTERED = 2004
    UPLOAD_FAILED = 3001
    UNSUPPORTED_FILE = 3002
    FILE_TOO_LARGE = 3003
    DATABASE = 4001
    CACHE = 4002
    UNAVAILABLE = 5003


HTTP_STATUS: dict[Code, int] = {
    Code.GENERAL: 500,
    Code.VALIDATION: 400,
    Code.NOT_FOUND: 404,
    Code.EXISTS: 409,
    Code.FORBIDDEN: 403,
    Code.RATE_LIMITED: 429,
    Code.TOKEN_INVALID: 401,
    Code.TOKEN_EXPIRED: 401,
    Code.AI_ERROR: 502,
    Code.AI_TIMEOUT: 504,
    Code.AI_QUOTA: 429,
    Code.AI_FILTERED: 422,
    Code.UPLOAD_FAILED: 400,
    Code.UNSUPPORTED_FILE: 415,
    Code.FILE_TOO_LARGE: 413,
    Code.DATABASE: 500,
    Code.CACHE: 500,
    Code.UNAVAILABLE: 503,
}


class AppError(Exception):
    """An expected failure with a business code; never answered as a bare 500."""

    code: Code = Code.GENERAL

    def __init__(
        self,
        message: str,
        *,
        code: Code | None = None,
        field: str | None = None,
        reason: str | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        if code is not None:
            self.code = code
        self.message = message
        self.field = field
        self.reason = reason or message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 500)

    def envelope(self) -> dict[str, Any]:
        return {
            "code": int(self.code),
            "message": self.message,
            "error": {"field": self.field, "reason": self.reason},
        }


class ValidationFailed(AppError):
    code = Code.VALIDATION


class NotFound(AppError):
    code = Code.NOT_FOUND


class AlreadyExists(AppError):
    code = Code.EXISTS


class VersionConflict(AppError):
    """An optimistic-concurrency write lost: the caller's version is stale."""

    code = Code.EXISTS


class ServiceUnavailable(AppError):
    code = Code.UNAVAILABLE
