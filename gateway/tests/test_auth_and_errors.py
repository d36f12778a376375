"""The gateway alone: auth flows and the error envelope, with no services running.

A real SQLite store backs users and tokens; the service addresses point at a closed port, so
every routed call shows what a client sees when a service is down (503, not a hang).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest

from storyreel_core.bus.nats_server import free_port
from storyreel_core.settings import Settings
from storyreel_gateway.app import build_state, create_app


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    dead = f"127.0.0.1:{free_port()}"
    settings = Settings(
        data_dir=tmp_path,
        script_addr=dead,
        workflow_addr=dead,
        tts_addr=dead,
        grpc_deadline_s=2.0,
        access_token_ttl_s=60,
    )
    state = await build_state(settings)
    app = create_app(settings, state)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c
    await state.docs.close()


async def register(client: httpx.AsyncClient, name: str = "alice") -> dict[str, str]:
    r = await client.post(
        "/api/v1/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": "correct horse"},
    )
    assert r.status_code == 201, r.text
    data: dict[str, str] = r.json()["data"]
    return data


async def test_register_login_by_username_or_email_and_me(client: httpx.AsyncClient) -> None:
    await register(client)
    for login in ("alice", "ALICE@example.com"):
        r = await client.post(
            "/api/v1/auth/login", json={"username": login, "password": "correct horse"}
        )
        assert r.status_code == 200, r.text
        token = r.json()["data"]["access_token"]
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["data"]["username"] == "alice"
    assert "password_hash" not in me.text


async def test_passwords_are_stored_as_argon2_hashes(client: httpx.AsyncClient) -> None:
    await register(client)
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    state = transport.app.state.gateway  # type: ignore[attr-defined]
    user = await state.docs.find_one("users", {"username": "alice"})
    assert user["password_hash"].startswith("$argon2id$")
    assert "correct horse" not in str(user)


async def test_wrong_password_and_duplicate_user(client: httpx.AsyncClient) -> None:
    await register(client)
    r = await client.post("/api/v1/auth/login", json={"username": "alice", "password": "nope"})
    assert r.status_code == 401
    r = await client.post(
        "/api/v1/auth/register",
        json={"username": "alice", "email": "a2@example.com", "password": "correct horse"},
    )
    assert r.status_code == 409
    assert r.json()["code"] == 1003


async def test_refresh_rotates_and_reuse_revokes_the_family(client: httpx.AsyncClient) -> None:
    first = await register(client)
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()["data"]
    assert second["refresh_token"] != first["refresh_token"]
    # Replaying the spent token is theft: it fails, and so does the token issued after it.
    replay = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401 and replay.json()["code"] == 1006
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401


async def test_logout_revokes_the_refresh_token(client: httpx.AsyncClient) -> None:
    tokens = await register(client)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    r = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert r.status_code == 200
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 401


async def test_missing_forged_and_expired_tokens(client: httpx.AsyncClient) -> None:
    tokens = await register(client)
    r = await client.get("/api/v1/users/me")
    assert r.status_code == 401 and r.json()["code"] == 1006
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-secret-not-the-secret-not-the-secret", algorithm="HS256")
    r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and r.json()["code"] == 1006
    unsigned = jwt.encode(claims, "", algorithm="none")
    r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {unsigned}"})
    assert r.status_code == 401 and r.json()["code"] == 1006
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    secret = transport.app.state.gateway.tokens.secret  # type: ignore[attr-defined]
    expired = jwt.encode(
        {**claims, "iat": int(time.time()) - 120, "exp": int(time.time()) - 60},
        secret,
        algorithm="HS256",
    )
    r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and r.json()["code"] == 1007


async def test_broken_json_is_a_400_envelope(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/login", content=b'{"username": ', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == 1001 and body["error"]["reason"]


async def test_unknown_route_is_a_404_envelope(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["code"] == 1002


async def test_a_service_that_is_down_answers_503(client: httpx.AsyncClient) -> None:
    tokens = await register(client)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    r = await client.get("/api/v1/dramas", headers=headers)
    assert r.status_code == 503
    assert r.json()["code"] == 5003


async def test_media_links_are_signed_and_expire(client: httpx.AsyncClient) -> None:
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    state = transport.app.state.gateway  # type: ignore[attr-defined]
    await state.objects.put_bytes("renders/t/x.bin", bytes(range(256)) * 4, "application/x")
    url = state.signer.sign("renders/t/x.bin")
    r = await client.get(url)
    assert r.status_code == 200 and len(r.content) == 1024
    r = await client.get(url, headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == bytes(range(10, 20))
    assert r.headers["content-range"] == "bytes 10-19/1024"
    r = await client.get(url, headers={"Range": "bytes=-4"})
    assert r.content == bytes(range(252, 256))
    r = await client.get(url.replace("sig=", "sig=0"))
    assert r.status_code == 403
    state.signer.ttl_s = -10
    r = await client.get(state.signer.sign("renders/t/x.bin"))
    assert r.status_code == 403
