"""`/media/<key>`: signed media downloads with HTTP Range (players seek, downloads resume).

Every answer carries `X-Content-Type-Options: nosniff`, so a browser uses the stored type and
never guesses one from the bytes; only audio, video and raster images are served inline, and
anything else (documents, text, SVG, which can carry script) is an attachment, so a stored file
cannot run as a page of the gateway's origin.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response, StreamingResponse

from storyreel_core.errors import AppError, Code, NotFound
from storyreel_core.stores.object_store import ObjectInfo, ObjectStore
from storyreel_gateway.deps import State
from storyreel_gateway.envelope import ErrorEnvelope
from storyreel_gateway.error_handlers import error_response
from storyreel_gateway.json_body import CheckedRoute

router = APIRouter(route_class=CheckedRoute, tags=["media"])
# Bounded digits: int() refuses strings past 4300 digits, and no object is that large.
_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")
NOSNIFF = {"X-Content-Type-Options": "nosniff"}
_INLINE_KINDS = frozenset({"audio", "video", "image"})
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._\-]")


def served_inline(content_type: str) -> bool:
    """Audio, video and images other than SVG (an SVG is a document that can run script)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.split("/", 1)[0] in _INLINE_KINDS and "svg" not in media_type


def attachment(key: str) -> str:
    """`Content-Disposition: attachment` named after the key's last part (RFC 6266)."""
    name = PurePosixPath(key).name or "download"
    fallback = _UNSAFE_FILENAME.sub("_", name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def parse_range(header: str, size: int) -> tuple[int, int]:
    match = _RANGE.match(header.strip())
    if not match or (not match[1] and not match[2]):
        raise AppError("bad Range header", code=Code.VALIDATION, field="range")
    if match[1]:
        start = int(match[1])
        end = int(match[2]) if match[2] else size - 1
    else:
        start = max(size - int(match[2]), 0)
        end = size - 1
    end = min(end, size - 1)
    if start > end or start >= size:
        raise AppError("range not satisfiable", code=Code.VALIDATION, field="range")
    return start, end


def ranged_response(
    objects: ObjectStore,
    key: str,
    info: ObjectInfo,
    range_header: str | None,
    *,
    media_type: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """The object streamed whole (200) or the part a `Range` header asks for (206, or 416
    with the envelope and `Content-Range: bytes */size` when it lies outside the object)."""
    media_type = media_type or info.content_type
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=300",
        **NOSNIFF,
        **(extra_headers or {}),
    }
    if range_header:
        try:
            start, end = parse_range(range_header, info.size)
        except AppError as exc:
            refused = error_response(416, int(exc.code), exc.message, exc.field, exc.reason)
            refused.headers["Content-Range"] = f"bytes */{info.size}"
            refused.headers.update(NOSNIFF)
            return refused
        headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
        headers["Content-Length"] = str(end - start + 1)
        return StreamingResponse(
            objects.stream(key, start, end),
            status_code=206,
            headers=headers,
            media_type=media_type,
        )
    headers["Content-Length"] = str(info.size)
    return StreamingResponse(objects.stream(key), headers=headers, media_type=media_type)


_MEDIA_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The whole object",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    206: {"description": "The requested byte range (`Range: bytes=start-end`)"},
    416: {
        "description": "The range is outside the object (`Content-Range: bytes */size`)",
        "model": ErrorEnvelope,
    },
    **{status: {"model": ErrorEnvelope} for status in (400, 403, 404)},
}


@router.get("/media/{key:path}", response_class=StreamingResponse, responses=_MEDIA_RESPONSES)
async def media(
    key: str,
    state: State,
    exp: Annotated[int, Query()],
    sig: Annotated[str, Query(max_length=128)],
    range_header: Annotated[str | None, Header(alias="range")] = None,
) -> Response:
    state.signer.verify(key, exp, sig)
    info = await state.objects.stat(key)
    if info is None:
        raise NotFound("media not found", field="key")
    extra = None if served_inline(info.content_type) else {"Content-Disposition": attachment(key)}
    return ranged_response(state.objects, key, info, range_header, extra_headers=extra)
