"""Accounts that resist attack, and media a browser cannot be tricked into running.

The gateway alone on a real SQLite store (no services): login throttling, the password policy,
case- and Unicode-insensitive identities, access tokens that end with their session, and the
headers of `/media` answers.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from storyreel_core.bus.nats_server import free_port
from storyreel_core.settings import Settings
from storyreel_gateway.app import build_state, create_app
from storyreel_gateway.state import GatewayState

PASSWORD = "correct horse"
ClientFor = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """The gateway; `indirect` parameters override settings (smaller limits keep tests fast:
    every wrong password costs an Argon2 verification)."""
    dead = f"127.0.0.1:{free_port()}"
    overrides: dict[str, Any] = getattr(request, "param", {})
    settings = Settings(
        data_dir=tmp_path, script_addr=dead, workflow_addr=dead, tts_addr=dead, **overrides
    )
    state = await build_state(settings)
    application = create_app(settings, state)
    async with application.router.lifespan_context(application):
        yield application
    await state.docs.close()


def _client(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app) as c:
        yield c


def _state(app: FastAPI) -> GatewayState:
    state: GatewayState = app.state.gateway
    return state


async def register(
    client: httpx.AsyncClient, name: str = "alice", email: str | None = None
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/auth/register",
        json={"username": name, "email": email or f"{name}@example.com", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


async def login(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"username": name, "password": password})


# --- login throttling ---


async def test_fifty_wrong_passwords_are_throttled_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    statuses = []
    for i in range(50):
        r = await login(client, "alice", f"wrong guess {i}")
        statuses.append(r.status_code)
        if r.status_code == 429:
            body = r.json()
            assert body["code"] == 1005 and body["error"]["reason"]
            assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 45
    # Throttled means not even the right password is tried (a guess that hits tells nothing).
    r = await login(client, "ALICE", PASSWORD)
    assert r.status_code == 429


@pytest.mark.parametrize("app", [{"login_limit_account": "3/minute"}], indirect=True)
async def test_a_successful_login_starts_the_account_windows_again(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    for i in range(2):
        assert (await login(client, "alice", f"wrong {i}")).status_code == 401
    assert (await login(client, "alice", PASSWORD)).status_code == 200
    for i in range(3):
        assert (await login(client, "alice", f"again {i}")).status_code == 401
    assert (await login(client, "alice", "one too many")).status_code == 429


@pytest.mark.parametrize("app", [{"login_limit_address": "4/minute"}], indirect=True)
async def test_one_address_guessing_across_accounts_is_throttled(app: FastAPI) -> None:
    async with _client(app, "203.0.113.7") as attacker, _client(app, "198.51.100.2") as other:
        for i in range(4):
            assert (await login(attacker, f"nobody{i}", "some password")).status_code == 401
        r = await login(attacker, "nobody-else", "some password")
        assert r.status_code == 429 and r.json()["code"] == 1005
        assert int(r.headers["Retry-After"]) >= 1
        # Another address is not held back by this one.
        assert (await login(other, "nobody-else", "some password")).status_code == 401


# --- password policy ---


async def test_common_and_guessable_passwords_are_refused(client: httpx.AsyncClient) -> None:
    for password in (
        "password",
        "12345678",
        " " * 8,
        "P@ssw0rd",
        "qwertyuiop",
        "abcdefgh",
        "aliceexample",  # the account's own name and email
    ):
        r = await client.post(
            "/api/v1/auth/register",
            json={"username": "alice", "email": "alice@example.com", "password": password},
        )
        assert r.status_code == 400, (password, r.text)
        body = r.json()
        assert body["code"] == 1001 and body["error"]["field"] == "password"
        assert "too easy to guess" in body["message"]


async def test_short_passwords_are_refused_and_long_ones_without_rules_pass(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/api/v1/auth/register",
        json={"username": "alice", "email": "alice@example.com", "password": "Xk3!q9z"},
    )
    assert r.status_code == 400 and r.json()["error"]["field"] == "password"
    # No composition rules: lowercase words and spaces only, and 256 characters, both pass.
    long_one = ("tea house lanterns " * 14)[:256]
    for name, password in (("mei", "tea house lanterns"), ("suu", long_one)):
        r = await client.post(
            "/api/v1/auth/register",
            json={"username": name, "email": f"{name}@example.com", "password": password},
        )
        assert r.status_code == 201, r.text


# --- identities ---


async def test_names_and_emails_are_unique_ignoring_case_and_unicode_forms(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "Alice", "Alice@Example.com")
    for name, email in [
        ("alice", "other@example.com"),
        ("ＡＬＩＣＥ", "other@example.com"),  # full-width letters: NFKC makes them ASCII
        ("bob", "ALICE@EXAMPLE.COM"),
        ("bob", "ａｌｉｃｅ@example.com"),
    ]:
        r = await client.post(
            "/api/v1/auth/register", json={"username": name, "email": email, "password": PASSWORD}
        )
        assert r.status_code == 409, (name, email, r.text)
        assert r.json()["code"] == 1003
    for spelling in ("alice", "ALICE", "ａｌｉｃｅ", "alice@example.COM"):
        r = await login(client, spelling, PASSWORD)
        assert r.status_code == 200, (spelling, r.text)
    token = r.json()["data"]["access_token"]
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["data"]["username"] == "Alice"  # shown as registered


async def test_accounts_from_before_the_folded_keys_still_log_in(app: FastAPI) -> None:
    state = _state(app)
    async with _client(app) as client:
        await register(client, "Mei")
        user = await state.docs.find_one("users", {"username": "Mei"})
        assert user is not None
        old = {k: v for k, v in user.items() if k not in ("username_key", "email_key", "version")}
        await state.docs.delete("users", user["_id"])
        await state.docs.insert("users", old)
        await state.users.ensure_indexes()
        assert (await login(client, "MEI", PASSWORD)).status_code == 200


# --- access tokens end with their session ---


def test_the_default_access_token_lives_fifteen_minutes() -> None:
    assert Settings().access_token_ttl_s == 900


async def test_logout_ends_the_access_token_at_once(client: httpx.AsyncClient) -> None:
    tokens = await register(client)
    other = (await login(client, "alice", PASSWORD)).json()["data"]  # a second session
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 900
    r = await client.post(
        "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert r.status_code == 200
    assert claims["exp"] > time.time()  # not expired, and yet:
    r = await client.get("/api/v1/users/me", headers=headers)
    assert r.status_code == 401 and r.json()["code"] == 1006
    # The other session is untouched.
    r = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {other['access_token']}"}
    )
    assert r.status_code == 200


async def test_a_revoked_refresh_family_ends_its_access_tokens(client: httpx.AsyncClient) -> None:
    first = await register(client)
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    second = r.json()["data"]
    headers = {"Authorization": f"Bearer {second['access_token']}"}
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 200
    # The spent refresh token comes back: theft, so the family is revoked, access tokens too.
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 401
    for token in (first["access_token"], second["access_token"]):
        r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.json()["code"] == 1006


async def test_a_token_without_a_session_is_refused(app: FastAPI) -> None:
    state = _state(app)
    async with _client(app) as client:
        tokens = await register(client)
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        for sid in (None, "fam_forged"):
            forged = {k: v for k, v in claims.items() if k != "sid"}
            if sid:
                forged["sid"] = sid
            token = jwt.encode(forged, state.tokens.secret, algorithm="HS256")
            r = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401 and r.json()["code"] == 1006


# --- media ---


MEDIA = [
    ("renders/t/final.mp4", "video/mp4", True),
    ("renders/t/voice.wav", "audio/wav", True),
    ("renders/t/frame.png", "image/png", True),
    ("dramas/d/assets/a/page.html", "text/html", False),
    ("dramas/d/assets/a/logo.svg", "image/svg+xml", False),
    ("renders/t/subtitles.srt", "application/x-subrip", False),
]


async def test_media_is_never_sniffed_and_only_media_is_inline(app: FastAPI) -> None:
    state = _state(app)
    async with _client(app) as client:
        for key, content_type, inline in MEDIA:
            await state.objects.put_bytes(key, b"<html><script>alert(1)</script>", content_type)
            r = await client.get(state.signer.sign(key))
            assert r.status_code == 200
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["content-type"].startswith(content_type)
            disposition = r.headers.get("content-disposition")
            if inline:
                assert disposition is None, key
            else:
                assert disposition is not None and disposition.startswith("attachment;"), key
                assert key.rsplit("/", 1)[1] in disposition
            r = await client.get(state.signer.sign(key), headers={"Range": "bytes=900-"})
            assert r.status_code == 416 and r.headers["x-content-type-options"] == "nosniff"


# --- docs ---


async def test_the_docs_load_nothing_from_another_host(client: httpx.AsyncClient) -> None:
    """/docs and /redoc work offline: every script, style and icon comes from the gateway."""
    for page in ("/docs", "/redoc"):
        r = await client.get(page)
        assert r.status_code == 200
        html = r.text
        assert re.findall(r"(?:https?:)?//[\w.-]+", html) == [], page
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
        assets += re.findall(r"""url: ?["']([^"']+)["']""", html)  # the OpenAPI document
        assert any(a.endswith(".js") for a in assets), (page, assets)
        for asset in assets:
            assert asset.startswith("/"), asset
            got = await client.get(asset)
            assert got.status_code == 200, asset
            assert got.content, asset
