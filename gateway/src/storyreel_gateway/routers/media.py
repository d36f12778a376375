"""`/media/<key>`: signed media downloads with HTTP Range (players seek, downloads resume)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from storyreel_core.errors import AppError, Code, NotFound
from storyreel_gateway.deps import State

router = APIRouter(tags=["media"])
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


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


@router.get("/media/{key:path}", response_class=StreamingResponse)
async def media(
    key: str,
    state: State,
    exp: Annotated[int, Query()],
    sig: Annotated[str, Query(max_length=128)],
    range_header: Annotated[str | None, Header(alias="range")] = None,
) -> StreamingResponse:
    state.signer.verify(key, exp, sig)
    info = await state.objects.stat(key)
    if info is None:
        raise NotFound("media not found", field="key")
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=300"}
    if range_header:
        try:
            start, end = parse_range(range_header, info.size)
        except AppError:
            return StreamingResponse(
                iter(()), status_code=416, headers={"Content-Range": f"bytes */{info.size}"}
            )
        headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
        headers["Content-Length"] = str(end - start + 1)
        return StreamingResponse(
            state.objects.stream(key, start, end),
            status_code=206,
            headers=headers,
            media_type=info.content_type,
        )
    headers["Content-Length"] = str(info.size)
    return StreamingResponse(
        state.objects.stream(key), headers=headers, media_type=info.content_type
    )
