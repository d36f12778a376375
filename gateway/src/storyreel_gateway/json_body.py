"""Request bodies: a byte cap per route and strict JSON, checked before any field is read.

Whatever the gateway accepts must be storable, readable and listable by every store behind it
(SQLite's JSON1, MongoDB's BSON, a proto `string`). So a JSON body is refused with 400 (code
1001), naming the place, when it holds

* a number that is not finite: `NaN`, `Infinity`, `-Infinity` (not JSON at all, though Python's
  parser takes them) or one that only a float overflow can hold (`1e400`);
* a lone surrogate (`"\\ud800"`) in a key or a string: it cannot be encoded as UTF-8;
* nesting deeper than `MAX_DEPTH` levels.

Free-form objects (a drama's `settings`, a script's `metadata` and `scenes`, a storyboard's
`composition`) are bounded further by `FreeObject` in `fields.py`.

The cap comes first: a body over its route's limit answers 413 (code 3003) from its
Content-Length before a byte is read, or as soon as the bytes read pass the limit.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from storyreel_core.errors import AppError, Code, ValidationFailed

MAX_DEPTH = 64
DEFAULT_BODY_LIMIT = 256 * 1024
BODY_LIMIT_KEY = "x-body-limit"
"""OpenAPI extension on each operation: the largest request body it accepts, in bytes, or
`UPLOAD` for an upload, limited by `STORYREEL_MAX_UPLOAD_BYTES` (413, code 3003)."""
UPLOAD = "STORYREEL_MAX_UPLOAD_BYTES"
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class _NonFinite:
    """Stands where the parser met NaN, ±Infinity or a float overflow, until the walk names it."""


_NON_FINITE = _NonFinite()


def _constant(_name: str) -> _NonFinite:
    return _NON_FINITE


def _float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NON_FINITE


def body_too_large(limit: int) -> AppError:
    return AppError(
        f"request body too large: this endpoint accepts at most {limit} bytes",
        code=Code.FILE_TOO_LARGE,
        field="body",
        reason=f"the limit for this endpoint is {limit} bytes",
    )


def _place(path: list[str | int]) -> str:
    place = ".".join(str(p) for p in path) or "body"
    return place if len(place) <= 120 else place[:117] + "…"


def check_json(
    value: Any, path: list[str | int] | None = None, *, max_depth: int = MAX_DEPTH
) -> None:
    """Refuse what no store can keep: non-finite numbers, lone surrogates, deep nesting.

    Walks `value` (a parsed JSON document) without recursion; raises ValidationFailed naming
    the dotted place of the first offence (`settings.a`, `scenes.0.narration`).
    """
    stack: list[tuple[Any, list[str | int]]] = [(value, list(path or []))]
    base = len(path or [])
    while stack:
        node, where = stack.pop()
        if isinstance(node, _NonFinite) or (isinstance(node, float) and not math.isfinite(node)):
            raise ValidationFailed(
                f"{_place(where)}: numbers must be finite (NaN, Infinity and values past "
                "±1.8e308 are not accepted)",
                field=_place(where),
            )
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise ValidationFailed(
                    f"{_place(where)}: text must be valid Unicode (a lone surrogate is not)",
                    field=_place(where),
                )
            continue
        if isinstance(node, dict | list):
            if len(where) - base >= max_depth:
                raise ValidationFailed(
                    f"{_place(where)}: nested more than {max_depth} levels deep",
                    field=_place(where),
                )
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, child in items:
                if isinstance(key, str) and _SURROGATE.search(key):
                    raise ValidationFailed(
                        f"{_place(where)}: a key must be valid Unicode (a lone surrogate is not)",
                        field=_place(where),
                    )
                stack.append((child, [*where, key]))


def parse_json(raw: bytes) -> Any:
    """Bytes → a JSON value every store can keep, or ValidationFailed (400, code 1001)."""
    try:
        value = json.loads(raw, parse_constant=_constant, parse_float=_float)
    except RecursionError as exc:
        raise ValidationFailed(
            f"request body is nested more than {MAX_DEPTH} levels deep", field="body"
        ) from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an int past 4300 digits
        raise ValidationFailed(
            "request body is not valid JSON", field="body", reason=str(exc)[:200]
        ) from exc
    check_json(value)
    return value


async def read_json(request: Request, limit: int) -> Any:
    """The body of a route that reads it itself, capped at `limit` bytes and parsed strictly;
    an empty body is `{}`."""
    if isinstance(request, CheckedRequest):
        request.body_limit = limit
        raw = await request.body()
    else:
        checked = CheckedRequest(request.scope, request.receive)
        checked.body_limit = limit
        raw = await checked.body()
    return parse_json(raw) if raw.strip() else {}


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class CheckedRequest(Request):
    """A request whose body is read under a byte cap and whose JSON is parsed strictly."""

    body_limit: int | None = None

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            limit = self.body_limit
            declared = self.headers.get("content-length", "")
            if limit is not None and declared.isdigit() and int(declared) > limit:
                raise body_too_large(limit)
            chunks: list[bytes] = []
            size = 0
            async for chunk in self.stream():
                size += len(chunk)
                if limit is not None and size > limit:
                    raise body_too_large(limit)
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            raw = await self.body()
            self._json = parse_json(raw)
        return self._json


class CheckedRoute(APIRoute):
    """Every API route: its body capped (`x-body-limit` in its OpenAPI operation) and checked.

    A route that streams an upload itself declares `x-body-limit: UPLOAD` in `openapi_extra`
    and enforces `max_upload_bytes` on its own (uploads.py); every other route is capped at its
    declared limit, `DEFAULT_BODY_LIMIT` when it declares none. The cap and the JSON checks
    run before FastAPI reads the body, so their errors are the envelope, not FastAPI's
    generic "error parsing the body".
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        extra = dict(kwargs.get("openapi_extra") or {})
        declared = extra.get(BODY_LIMIT_KEY, DEFAULT_BODY_LIMIT)
        self.body_limit: int | None = None if declared == UPLOAD else int(declared)
        if set(kwargs.get("methods") or ()) & {"POST", "PUT", "PATCH"}:
            extra[BODY_LIMIT_KEY] = declared
            kwargs["openapi_extra"] = extra
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        limit = self.body_limit

        async def checked(request: Request) -> Response:
            request = CheckedRequest(request.scope, request.receive)
            request.body_limit = limit
            if limit is not None and request.method in ("POST", "PUT", "PATCH", "DELETE"):
                await request.body()
                if _is_json(request) and (await request.body()).strip():
                    await request.json()
            return await handler(request)

        return checked
