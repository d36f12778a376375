"""Admins and API users on the gateway alone (a real SQLite store, no services).

The first admin from configuration, the admin login, `/auth/api-users` management, keys in
`X-API-Key` (quota, allowed operations, regeneration, disabling, usage), and seed 004's login
and refresh shapes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from storyreel_core.bus.nats_server import free_port
from storyreel_core.settings import Settings
from storyreel_gateway.app import build_state, create_app
from storyreel_gateway.auth.admin_seed import AdminConfigError, admin_credentials, ensure_admin
from storyreel_gateway.auth.api_user_store import OPERATIONS
from storyreel_gateway.auth.user_store import UserStore
from storyreel_gateway.state import GatewayState

ADMIN, ADMIN_PASSWORD = "root-admin", "violet harbour quietly 42"
PASSWORD = "correct horse"


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    dead = f"127.0.0.1:{free_port()}"
    return Settings(
        data_dir=tmp_path,
        script_addr=dead,
        workflow_addr=dead,
        tts_addr=dead,
        admin_username=ADMIN,
        admin_password=ADMIN_PASSWORD,
        **overrides,
    )


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = _settings(tmp_path)
    state = await build_state(settings)
    application = create_app(settings, state)
    async with application.router.lifespan_context(application):
        yield application
    await state.docs.close()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
        yield c


async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    r = await client.post("/auth/admin/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["user"]["role"] == "admin" and data["user"]["username"] == ADMIN
    return {"Authorization": f"Bearer {data['access_token']}"}


async def register(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    r = await client.post(
        "/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def assert_error(r: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


# --- the first admin ---


async def test_admin_login_is_for_admins_only(client: httpx.AsyncClient) -> None:
    headers = await admin_headers(client)
    me = await client.get("/auth/me", headers=headers)
    assert me.json()["data"]["role"] == "admin"
    user = await register(client, "mei")
    assert user["user"]["role"] == "user"
    r = await client.post("/auth/admin/login", json={"username": "mei", "password": PASSWORD})
    assert_error(r, 403, 1004)
    wrong = await client.post("/auth/admin/login", json={"username": ADMIN, "password": "nope"})
    assert_error(wrong, 401, 1006)
    as_user = {"Authorization": f"Bearer {user['access_token']}"}
    assert_error(await client.get("/auth/api-users", headers=as_user), 403, 1004)
    assert_error(await client.get("/auth/api-users"), 401, 1006)


async def test_admin_settings_are_checked_before_anything_starts(tmp_path: Path) -> None:
    assert admin_credentials(Settings()) is None
    assert admin_credentials(Settings(admin_username="", admin_password="")) is None  # ${VAR:-}
    refused = {
        "weak password": {"admin_username": "boss", "admin_password": "password1"},
        "built from the name": {"admin_username": "boss", "admin_password": "bossboss1"},
        "no password": {"admin_username": "boss"},
        "no username": {"admin_password": ADMIN_PASSWORD},
        "two sources": {
            "admin_username": "boss",
            "admin_password": ADMIN_PASSWORD,
            "admin_password_file": tmp_path / "p",
        },
        "unreadable file": {"admin_username": "boss", "admin_password_file": tmp_path / "no"},
    }
    for why, overrides in refused.items():
        with pytest.raises(AdminConfigError) as caught:
            admin_credentials(Settings(**overrides))
        assert "ADMIN" in str(caught.value) or "admin" in str(caught.value), why
        assert ADMIN_PASSWORD not in str(caught.value)
    secret_file = tmp_path / "admin_password"
    secret_file.write_text(ADMIN_PASSWORD + "\n")
    creds = admin_credentials(Settings(admin_username="boss", admin_password_file=secret_file))
    assert creds is not None and creds.password == ADMIN_PASSWORD
    assert ADMIN_PASSWORD not in repr(creds)


async def test_admin_is_created_once_and_never_taken_from_a_user(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    state: GatewayState = await build_state(settings)
    try:
        users: UserStore = state.users
        first = await users.find_by_login(ADMIN)
        assert first is not None and first["role"] == "admin"
        again = await ensure_admin(users, settings)  # a restart, or a second replica
        assert again is not None and again["_id"] == first["_id"]
        await users.register("taken-name", "t@example.com", PASSWORD)
        squatted = settings.model_copy(update={"admin_username": "taken-name"})
        with pytest.raises(AdminConfigError, match="not an admin"):
            await ensure_admin(users, squatted)
    finally:
        await state.docs.close()


# --- API users and keys ---


async def test_api_user_key_quota_regenerate_disable_enable(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    r = await client.post(
        "/auth/api-users",
        headers=admin,
        json={
            "username": "partner_company_001",
            "displayName": "Partner A",
            "description": "integration",
            "quotaPerDay": 3,
        },
    )
    assert r.status_code == 201, r.text
    created = r.json()["data"]
    key, api_user_id = created["api_key"], created["id"]
    assert key.startswith("sk-sr-") and created["display_name"] == "Partner A"
    assert created["quota_per_day"] == 3 and created["is_active"] is True

    as_key = {"X-API-Key": key}
    for _ in range(3):
        me = await client.get("/auth/me", headers=as_key)
        assert me.status_code == 200, me.text
    assert me.json()["data"] == {
        "id": api_user_id,
        "username": "partner_company_001",
        "email": None,
        "role": "api_user",
        "created_at": created["created_at"],
    }
    over = await client.get("/auth/me", headers=as_key)
    body = assert_error(over, 429, 1005)
    assert 0 < int(over.headers["Retry-After"]) <= 86400
    assert body["error"]["quota"]["period"] == "day"
    assert body["error"]["quota"]["limit"] == 3 and body["error"]["quota"]["used"] == 3

    detail = (await client.get(f"/auth/api-users/{api_user_id}", headers=admin)).json()["data"]
    assert detail["usage_stats"]["total_requests"] == 4
    assert detail["usage_stats"]["successful_requests"] == 3
    assert detail["usage_stats"]["failed_requests"] == 1
    assert detail["usage_stats"]["today"] == 4
    assert detail["usage_by_day"][0]["requests"] == 4 and detail["quota"]["day"]["used"] == 3
    assert detail["last_used_at"] is not None
    listed = (await client.get("/auth/api-users", headers=admin)).json()
    assert [u["id"] for u in listed["data"]] == [api_user_id]
    for shown in (detail, listed["data"][0]):
        assert "api_key" not in shown and key not in str(shown) and "key_hash" not in shown

    # Lifting the quota lets the key work again.
    r = await client.put(
        f"/auth/api-users/{api_user_id}", headers=admin, json={"quota_per_day": None}
    )
    assert r.status_code == 200 and r.json()["data"]["quota_per_day"] is None
    assert (await client.get("/auth/me", headers=as_key)).status_code == 200

    r = await client.post(f"/auth/api-users/{api_user_id}/regenerate-key", headers=admin)
    new_key = r.json()["data"]["api_key"]
    assert new_key != key and new_key.startswith("sk-sr-")
    assert_error(await client.get("/auth/me", headers=as_key), 401, 1006)
    as_new = {"X-API-Key": new_key}
    assert (await client.get("/auth/me", headers=as_new)).status_code == 200

    r = await client.post(f"/auth/api-users/{api_user_id}/disable", headers=admin)
    assert r.status_code == 200 and r.json()["data"]["is_active"] is False
    disabled = assert_error(await client.get("/auth/me", headers=as_new), 401, 1006)
    assert "disabled" in disabled["message"]
    inactive = await client.get("/auth/api-users", headers=admin, params={"is_active": False})
    assert [u["id"] for u in inactive.json()["data"]] == [api_user_id]
    r = await client.post(f"/auth/api-users/{api_user_id}/enable", headers=admin)
    assert r.json()["data"]["is_active"] is True
    assert (await client.get("/auth/me", headers=as_new)).status_code == 200

    # Two generations of key, each counted on its own row.
    detail = (await client.get(f"/auth/api-users/{api_user_id}", headers=admin)).json()["data"]
    assert len({row["key_id"] for row in detail["usage_by_day"]}) == 2


async def test_keys_are_refused_where_they_do_not_belong(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    r = await client.post(
        "/auth/api-users",
        headers=admin,
        json={"username": "narrow", "allowed_operations": ["conversations"]},
    )
    key = r.json()["data"]["api_key"]
    as_key = {"X-API-Key": key}
    assert (await client.get("/conversations", headers=as_key)).status_code == 200
    body = assert_error(await client.get("/auth/me", headers=as_key), 403, 1004)
    assert body["error"]["field"] == "allowed_operations"
    # An API user is no admin, and a key has no session to log out.
    assert_error(await client.get("/auth/api-users", headers=as_key), 403, 1004)
    wide = await client.post("/auth/api-users", headers=admin, json={"username": "wide"})
    wide_key = {"X-API-Key": wide.json()["data"]["api_key"]}
    assert_error(await client.get("/auth/api-users", headers=wide_key), 403, 1004)
    r = await client.post("/auth/logout", headers=wide_key, json={"refresh_token": "x"})
    assert_error(r, 400, 1001)
    for bad in ("sk-sr-" + "A" * 43, "not-a-key", key + "x"):
        assert_error(await client.get("/conversations", headers={"X-API-Key": bad}), 401, 1006)


async def test_api_user_requests_are_validated(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    bad = [
        {"username": "no"},
        {"username": "has space"},
        {"username": "ok_name", "quota_per_day": 0},
        {"username": "ok_name", "allowed_operations": ["everything"]},
        {"username": "ok_name", "surprise": 1},
    ]
    for body in bad:
        assert_error(await client.post("/auth/api-users", headers=admin, json=body), 400, 1001)
    r = await client.post(
        "/auth/api-users", headers=admin, json={"username": "dup", "quota_limit": 10}
    )
    assert r.json()["data"]["quota_per_month"] == 10 and r.json()["data"]["quota_limit"] == 10
    again = await client.post("/auth/api-users", headers=admin, json={"username": "DUP"})
    assert_error(again, 409, 1003)
    for path in ("/auth/api-users/apu_unknown", "/auth/api-users/apu_unknown/disable"):
        method = client.get if path.endswith("unknown") else client.post
        assert_error(await method(path, headers=admin), 404, 1002)


# --- seed 004's shapes ---


async def test_login_by_email_and_refresh_with_camel_case(client: httpx.AsyncClient) -> None:
    await register(client, "lin")
    r = await client.post("/auth/login", json={"email": "lin@example.com", "password": PASSWORD})
    assert r.status_code == 200, r.text
    refresh = r.json()["data"]["refresh_token"]
    r = await client.post("/auth/refresh", json={"refreshToken": refresh})
    assert r.status_code == 200, r.text
    tokens = r.json()["data"]
    assert set(tokens) == {"access_token", "refresh_token", "expires_in", "token_type"}
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = await client.get("/auth/me", headers=headers)
    assert me.json()["data"]["username"] == "lin"
    r = await client.post(
        "/auth/logout", headers=headers, json={"refreshToken": tokens["refresh_token"]}
    )
    assert r.status_code == 200
    assert_error(await client.post("/auth/login", json={"password": PASSWORD}), 400, 1001)


async def test_openapi_documents_auth_me_admin_login_and_the_key_header(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("http://test/openapi.json")).json()
    paths = spec["paths"]
    assert "get" in paths["/api/v1/auth/me"] and "post" in paths["/api/v1/auth/admin/login"]
    for path in (
        "/api/v1/auth/api-users",
        "/api/v1/auth/api-users/{api_user_id}",
        "/api/v1/auth/api-users/{api_user_id}/regenerate-key",
        "/api/v1/auth/api-users/{api_user_id}/disable",
        "/api/v1/auth/api-users/{api_user_id}/enable",
    ):
        assert path in paths
    schemes = spec["components"]["securitySchemes"]
    key_schemes = [n for n, s in schemes.items() if s.get("name") == "X-API-Key"]
    assert key_schemes and schemes[key_schemes[0]]["in"] == "header"
    # Every route a key reaches belongs to an operation `allowed_operations` can name (else a
    # restricted key could never be granted it); the admin-only API-user routes excepted.
    for path, item in paths.items():
        for method, op in item.items():
            uses_key = any(key_schemes[0] in s for s in op.get("security", []))
            if uses_key and "api-users" not in op["tags"]:
                assert set(op["tags"]) & set(OPERATIONS), f"{method} {path}: {op['tags']}"
