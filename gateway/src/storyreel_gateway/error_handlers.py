"""Every failure leaves the gateway as the error envelope with the right status, never a bare 500.

Request validation answers 400 with code 1001 (seed 000), naming the first offending field; a
path id of the wrong format answers 404 (code 1002), as an unknown one does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from storyreel_core.errors import AppError, Code
from storyreel_core.logging import get_logger

log = get_logger("storyreel.gateway")

_HTTP_CODES = {
    400: Code.VALIDATION,
    401: Code.TOKEN_INVALID,
    403: Code.FORBIDDEN,
    404: Code.NOT_FOUND,
    405: Code.VALIDATION,
    409: Code.EXISTS,
    413: Code.FILE_TOO_LARGE,
    415: Code.UNSUPPORTED_FILE,
    429: Code.RATE_LIMITED,
    503: Code.UNAVAILABLE,
}


RETRY_AFTER_S = 5
"""`Retry-After` of a 429 that names no time of its own (too many tasks at once)."""


def error_response(
    status: int,
    code: int,
    message: str,
    field: str | None = None,
    reason: str | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """The envelope; `extra` adds keys to `error` beyond field and reason (e.g. the quota a
    429 ran into)."""
    body = {
        "code": code,
        "message": message,
        "error": {"field": field, "reason": reason or message, **(extra or {})},
    }
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 429:
        headers["Retry-After"] = str(RETRY_AFTER_S)
    return JSONResponse(body, status_code=status, headers=headers or None)


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_request: Request, exc: AppError) -> JSONResponse:
        if exc.http_status >= 500:
            log.warning("gateway.app_error", code=int(exc.code), error=exc.message)
        extra = getattr(exc, "extra", None)
        response = error_response(
            exc.http_status,
            int(exc.code),
            exc.message,
            exc.field,
            exc.reason,
            extra if isinstance(extra, dict) else None,
        )
        retry_after = getattr(exc, "retry_after_s", None)
        if isinstance(retry_after, int):
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        field = _field(first.get("loc", ()))
        if any(tuple(e.get("loc", ()))[:1] == ("path",) for e in errors):
            # A malformed id names nothing that could exist: the same 404 as an unknown one.
            path_error = next(e for e in errors if tuple(e.get("loc", ()))[:1] == ("path",))
            name = _field(path_error.get("loc", ()))
            return error_response(404, Code.NOT_FOUND, f"{name}: no such resource", name)
        if first.get("type") == "json_invalid":
            return error_response(
                400,
                Code.VALIDATION,
                "request body is not valid JSON",
                "body",
                str(first.get("msg")),
            )
        # A validator's ValueError reads "Value error, <what>": the envelope keeps the what.
        msg = str(first.get("msg")).removeprefix("Value error, ")
        return error_response(400, Code.VALIDATION, f"{field}: {msg}", field, msg)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, Code.GENERAL)
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("gateway.unhandled", error=str(exc))
        return error_response(500, Code.GENERAL, "internal error")
