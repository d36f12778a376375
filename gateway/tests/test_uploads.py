"""The streaming multipart reader: limits enforced while reading, temp files always removed."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from storyreel_gateway.error_handlers import install_error_handlers
from storyreel_gateway.uploads import FORM_OVERHEAD, receive_form

LIMIT = 1000
seen: dict[str, Any] = {}


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, Any]:
        async with receive_form(request, file_field="file", limit=LIMIT) as form:
            assert form.file is not None
            seen["path"] = form.file.path
            return {
                "size": form.file.size,
                "name": form.file.filename,
                "data": form.file.path.read_bytes().decode(),
                "fields": form.fields,
            }

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def test_a_file_and_fields_are_received(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/upload", files={"file": ("a b.txt", b"x" * LIMIT)}, data={"tags": "a,b", "type": "image"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["size"] == LIMIT and body["name"] == "a b.txt" and body["data"] == "x" * LIMIT
    assert body["fields"] == {"tags": "a,b", "type": "image"}
    assert not await asyncio.to_thread(os.path.exists, seen["path"])  # temp folder gone


async def test_one_byte_over_is_413(client: httpx.AsyncClient) -> None:
    r = await client.post("/upload", files={"file": ("a", b"x" * (LIMIT + 1))})
    assert r.status_code == 413 and r.json()["code"] == 3003


async def test_a_large_content_length_is_refused_before_reading(
    client: httpx.AsyncClient,
) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"--b\r\n"

    r = await client.post(
        "/upload",
        content=body(),
        headers={
            "Content-Type": "multipart/form-data; boundary=b",
            "Content-Length": str(LIMIT + FORM_OVERHEAD + 1),
        },
    )
    assert r.status_code == 413 and r.json()["code"] == 3003


async def test_streaming_stops_at_the_limit_without_content_length(
    client: httpx.AsyncClient,
) -> None:
    sent: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\n'
        for _ in range(10_000):
            sent.append(1)
            yield b"y" * 100

    r = await client.post(
        "/upload", content=body(), headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert r.status_code == 413 and r.json()["code"] == 3003
    assert len(sent) < 50  # reading stopped early


@pytest.mark.parametrize(
    ("files", "content", "headers"),
    [
        ({"file": ("a", b"1"), "other": ("b", b"2")}, None, None),
        (None, b"not multipart", {"Content-Type": "text/plain"}),
        (None, b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nab",
         {"Content-Type": "multipart/form-data; boundary=b"}),
    ],
)  # fmt: skip
async def test_bad_bodies_are_400(
    client: httpx.AsyncClient, files: Any, content: Any, headers: Any
) -> None:
    r = await client.post("/upload", files=files, content=content, headers=headers)
    assert r.status_code == 400 and r.json()["code"] == 1001, r.text
