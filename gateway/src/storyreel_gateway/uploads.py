"""Multipart uploads without unbounded buffering, handed to services as a staging key.

The request body is streamed through python-multipart's push parser: the one file part goes to
a temporary file with a running size check, and reading stops the moment the file passes
`max_upload_bytes` (413, code 3003) — a Content-Length that already says so is refused before
a byte is read. Small text fields are kept in memory with their own cap.

The accepted file is then put in the object store under `staging/<user id>/<upload id>` and
only that key travels over gRPC (no 50 MB messages, no gRPC size limits to raise). The owning
service checks the content, stores it under its final key and deletes the staging object; the
gateway deletes it too once the call returns, whatever happened, so nothing is left behind by
a refused upload.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from storyreel_core.errors import AppError, Code, ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_core.staged_files import staged_object
from storyreel_core.stores.object_store import ObjectStore
from storyreel_gateway.json_body import BODY_LIMIT_KEY, UPLOAD

log = get_logger("storyreel.gateway.uploads")

FORM_OVERHEAD = 64 * 1024  # boundaries, part headers and the small fields around the file
MAX_FIELD_BYTES = 4 * 1024
MAX_PARTS = 16


def too_large(limit: int) -> AppError:
    return AppError(
        f"file too large: the limit is {limit} bytes",
        code=Code.FILE_TOO_LARGE,
        field="file",
        reason=f"uploads are limited to {limit} bytes",
    )


@dataclass
class ReceivedFile:
    path: Path
    filename: str
    size: int


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    file: ReceivedFile | None = None


def upload_schema(file_field: str, fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`openapi_extra` for an endpoint that streams its multipart body itself, under
    `max_upload_bytes` (so the route's own body cap is off: `x-body-limit` says so)."""
    return {
        BODY_LIMIT_KEY: UPLOAD,
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [file_field],
                        "properties": {
                            file_field: {"type": "string", "format": "binary"},
                            **fields,
                        },
                    }
                }
            },
        },
    }


class _FormReader:
    """Callbacks for the push parser; file bytes are queued and written off the event loop."""

    def __init__(self, file_field: str, limit: int, workdir: Path) -> None:
        self.file_field = file_field
        self.limit = limit
        self.workdir = workdir
        self.form = ReceivedForm()
        self.pending: list[bytes] = []
        self.handle: IO[bytes] | None = None
        self.finished = False
        self._headers: dict[bytes, bytes] = {}
        self._name: list[bytes] = []
        self._value: list[bytes] = []
        self._field: str | None = None
        self._field_data = bytearray()
        self._in_file = False
        self._parts = 0

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": lambda d, s, e: self._name.append(d[s:e]),
            "on_header_value": lambda d, s, e: self._value.append(d[s:e]),
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise ValidationFailed("too many form fields", field="body")
        self._headers = {}

    def on_header_end(self) -> None:
        self._headers[b"".join(self._name).strip().lower()] = b"".join(self._value).strip()
        self._name.clear()
        self._value.clear()

    def on_headers_finished(self) -> None:
        _disp, options = parse_options_header(self._headers.get(b"content-disposition"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self._in_file = False
        self._field = None
        if filename is None:
            self._field = name
            self._field_data = bytearray()
            return
        if name != self.file_field or self.form.file is not None:
            raise ValidationFailed(
                f"send one file, in the form field {self.file_field!r}", field=name or "body"
            )
        path = self.workdir / "body"
        self.handle = path.open("wb")
        self.form.file = ReceivedFile(path, filename.decode("utf-8", "replace"), 0)
        self._in_file = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            assert self.form.file is not None
            self.form.file.size += end - start
            if self.form.file.size > self.limit:
                raise too_large(self.limit)
            self.pending.append(bytes(data[start:end]))
        elif self._field is not None:
            self._field_data += data[start:end]
            if len(self._field_data) > MAX_FIELD_BYTES:
                raise ValidationFailed(f"{self._field} is too long", field=self._field)

    def on_part_end(self) -> None:
        if self._field is not None:
            self.form.fields[self._field] = self._field_data.decode("utf-8", "replace")
            self._field = None
        self._in_file = False

    def on_end(self) -> None:
        self.finished = True

    async def flush(self) -> None:
        if self.pending and self.handle is not None:
            data, self.pending = b"".join(self.pending), []
            await asyncio.to_thread(self.handle.write, data)


@contextlib.asynccontextmanager
async def receive_form(
    request: Request, *, file_field: str, limit: int
) -> AsyncIterator[ReceivedForm]:
    """Stream a multipart body to a temp folder (removed on exit); 413 past `limit` bytes."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise ValidationFailed("send the file as multipart/form-data", field=file_field)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise too_large(limit)
    workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="storyreel-gw-upload-"))
    reader = _FormReader(file_field, limit, workdir)
    try:
        try:
            await _read_body(request, reader, boundary, limit)
        except AppError:
            raise
        except Exception as exc:  # the parser's own errors: a malformed body
            raise ValidationFailed(f"malformed multipart body: {exc}"[:300], field="body") from exc
        yield reader.form
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, True)


async def _read_body(request: Request, reader: _FormReader, boundary: bytes, limit: int) -> None:
    parser = MultipartParser(boundary, reader.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit + FORM_OVERHEAD:
                raise too_large(limit)
            parser.write(chunk)
            await reader.flush()
        parser.finalize()
    finally:
        await reader.flush()
        if reader.handle is not None:
            await asyncio.to_thread(reader.handle.close)
    if not reader.finished:
        raise ValidationFailed("the multipart body is incomplete", field="body")


@dataclass
class StagedUpload:
    key: str
    filename: str
    fields: dict[str, str]


@contextlib.asynccontextmanager
async def staged_upload(
    request: Request, objects: ObjectStore, *, user_id: str, file_field: str, limit: int
) -> AsyncIterator[StagedUpload]:
    """Receive the file, put it under a staging key for the service, delete it afterwards."""
    async with receive_form(request, file_field=file_field, limit=limit) as form:
        if form.file is None:
            raise ValidationFailed(f"{file_field} is required", field=file_field)
        async with staged_object(
            objects, user_id, form.file.path, "application/octet-stream"
        ) as key:
            yield StagedUpload(key, form.file.filename, form.fields)
