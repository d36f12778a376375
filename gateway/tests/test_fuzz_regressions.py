"""Inputs the schemathesis run (tests/test_schemathesis.py) once answered with a 500, pinned.

The gateway runs alone with every service address on a closed port: each input here must be
refused by the gateway itself (400, 403, 416) before any service is called, or it would show
up as a 503 instead.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from storyreel_core.bus.nats_server import free_port
from storyreel_core.errors import AppError, Code
from storyreel_core.settings import Settings
from storyreel_gateway.app import build_state, create_app
from storyreel_gateway.fields import INT32_MAX, MAX_SAFE_INTEGER
from storyreel_gateway.media_signer import MediaSigner
from storyreel_gateway.routers.script_upload import read_generate_body


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    dead = f"127.0.0.1:{free_port()}"
    settings = Settings(
        data_dir=tmp_path,
        grpc_deadline_s=2.0,
        script_addr=dead,
        asset_addr=dead,
        storyboard_addr=dead,
        tts_addr=dead,
        video_addr=dead,
        workflow_addr=dead,
    )
    state = await build_state(settings)
    app = create_app(settings, state)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            r = await c.post(
                "/api/v1/auth/register",
                json={"username": "fuzzed", "email": "f@example.com", "password": "pass-word-1"},
            )
            assert r.status_code == 201, r.text
            c.headers["Authorization"] = f"Bearer {r.json()['data']['access_token']}"
            yield c
    await state.docs.close()


def assert_envelope(r: httpx.Response, status: int, code: int, field: str | None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    assert body["error"]["field"] == field, body


# --- version numbers past int64 made the proto constructor raise ValueError (500) -----------

TOO_BIG = 2**63  # one past int64: what the fuzzer sent was 5536840152599609150701305856

VERSIONED_WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("PUT", "/api/v1/dramas/drama_x", {"name": "a"}),
    ("PATCH", "/api/v1/dramas/drama_x", {}),
    ("PUT", "/api/v1/dramas/drama_x/scripts/script_x", {"title": "t"}),
    ("PUT", "/api/v1/dramas/drama_x/characters/char_x", {"name": "a"}),
    ("PATCH", "/api/v1/dramas/drama_x/characters/char_x", {}),
    ("POST", "/api/v1/dramas/drama_x/scripts/script_x/versions/scriptver_x/restore", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), VERSIONED_WRITES)
@pytest.mark.parametrize("version", [TOO_BIG, 5536840152599609150701305856, MAX_SAFE_INTEGER + 1])
async def test_a_version_past_the_wire_type_is_a_400(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any], version: int
) -> None:
    r = await client.request(method, path, json={**body, "version": version})
    assert_envelope(r, 400, 1001, "version")


@pytest.mark.parametrize(("method", "path", "body"), VERSIONED_WRITES)
async def test_the_largest_version_passes_validation(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]
) -> None:
    r = await client.request(method, path, json={**body, "version": MAX_SAFE_INTEGER})
    assert r.status_code == 503, r.text  # validated, then the (closed) service was called


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/pipeline/render", {"story": "s", "options": {"seed": INT32_MAX + 1}}, "seed"),
        ("/api/v1/pipeline/render", {"story": "s", "options": {"seed": -1}}, "seed"),
        (
            "/api/v1/pipeline/render",
            {"story": "s", "options": {"image": {"seed": 2**64}}},
            "seed",
        ),
        (
            "/api/v1/dramas/drama_x/assets/generate",
            {"items": [{"kind": "prop", "name": "a"}], "seed": 2**63},
            "seed",
        ),
    ],
)
async def test_a_seed_out_of_range_is_a_400(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    r = await client.post(path, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 1001 and r.json()["error"]["field"].endswith(field)


# --- a media signature with non-ASCII characters made compare_digest raise TypeError (500) --


def test_a_non_ascii_signature_is_refused_not_raised() -> None:
    signer = MediaSigner(b"secret", 60)
    exp = int(time.time()) + 60
    for sig in ("&\x85𦦋M\x94ÿ", "é" * 64, "\udc80"):
        with pytest.raises(AppError) as refused:
            signer.verify("renders/x.mp4", exp, sig)
        assert refused.value.code == Code.FORBIDDEN


async def test_a_media_url_with_a_non_ascii_signature_is_a_403(client: httpx.AsyncClient) -> None:
    r = await client.get("/media/%C3%A2%F1%90%87%BE?exp=7140150&sig=%26%C2%85%F0%A6%A6%8BM%C2%94")
    assert_envelope(r, 403, 1004, "sig")


# --- Range headers: int() refuses more than 4300 digits; a 416 is the envelope too ---------


async def test_unreadable_and_unsatisfiable_ranges_are_416_envelopes(
    client: httpx.AsyncClient,
) -> None:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    state = transport.app.state.gateway  # type: ignore[attr-defined]
    await state.objects.put_bytes("renders/t/r.bin", bytes(100), "application/octet-stream")
    url = state.signer.sign("renders/t/r.bin")
    for header in ("bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 5000, "bytes=200-300", "4wp"):
        r = await client.get(url, headers={"Range": header})
        assert_envelope(r, 416, 1001, "range")
        assert r.headers["content-range"] == "bytes */100"
    r = await client.get(url, headers={"Range": "bytes=90-"})
    assert r.status_code == 206 and r.content == bytes(10)


# --- a Content-Length that is not a number made int() raise in the generate body reader -----


async def test_a_non_numeric_content_length_is_not_a_crash() -> None:
    body = b'{"prompt": "a fox"}'

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"12abc")],
    }
    parsed, source = await read_generate_body(Request(scope, receive))
    assert parsed.prompt == "a fox" and source == ""
