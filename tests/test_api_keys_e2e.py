"""Seed 003's API-key journey through the running platform.

The admin configured by `STORYREEL_ADMIN_USERNAME`/`_PASSWORD` (conftest.py) creates two API
users; a key creates a drama and starts a real task through the services; the other API
user's key cannot see them (404); the quota runs out (429 with `Retry-After`); the key is
regenerated (the old one 401), disabled (401) and enabled; a key also opens the WebSocket. No
key ever appears in the platform's log.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from e2e_client import ADMIN_PASSWORD, ADMIN_USERNAME, Api, assert_error
from websockets.asyncio.client import connect

from storyreel_cli.platform_process import PlatformProcess


def _client(platform: PlatformProcess, headers: dict[str, str]) -> httpx.Client:
    return httpx.Client(base_url=f"{platform.url}/api/v1", headers=headers, timeout=30)


def _admin(platform: PlatformProcess) -> httpx.Client:
    with _client(platform, {}) as anon:
        r = anon.post(
            "/auth/admin/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
    assert r.status_code == 200, r.text
    return _client(platform, {"Authorization": f"Bearer {r.json()['data']['access_token']}"})


def _create(admin: httpx.Client, body: dict[str, Any]) -> tuple[str, str]:
    r = admin.post("/auth/api-users", json=body)
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    return data["id"], data["api_key"]


def _wait_terminal(client: httpx.Client, task_id: str, timeout_s: float = 60) -> dict[str, Any]:
    for _ in range(int(timeout_s * 4)):
        r = client.get(f"/tasks/{task_id}")
        assert r.status_code == 200, r.text
        task: dict[str, Any] = r.json()["data"]
        if task["status"] in ("completed", "failed", "cancelled"):
            return task
        time.sleep(0.25)
    raise AssertionError(f"task {task_id} did not finish")


async def _socket_hello(platform: PlatformProcess, key: str) -> dict[str, Any]:
    url = platform.url.replace("http://", "ws://") + "/api/v1/ws"
    async with connect(url, additional_headers={"X-API-Key": key}) as ws:
        hello: dict[str, Any] = json.loads(await ws.recv())
        return hello


def test_api_key_journey(platform: PlatformProcess, api: Api) -> None:
    admin = _admin(platform)
    # A person's token is not enough to manage API users; the admin reaches the admin routes.
    assert_error(api.get("/auth/api-users"), 403, 1004)
    assert admin.get("/auth/me").json()["data"]["role"] == "admin"
    assert admin.get("/monitoring/logs/errors").status_code == 200
    a_id, a_key = _create(admin, {"username": "partner-a", "name": "Partner A"})
    _b_id, b_key = _create(admin, {"username": "partner-b", "quota_per_day": 1000})
    a, b = _client(platform, {"X-API-Key": a_key}), _client(platform, {"X-API-Key": b_key})
    keys = [a_key, b_key]

    # The key acts as its API user, through the services.
    drama = a.post("/dramas", json={"name": "Key-made drama"})
    assert drama.status_code == 201, drama.text
    drama_id = drama.json()["data"]["id"]
    r = a.post(f"/dramas/{drama_id}/scripts/generate", json={"prompt": "A rainy night."})
    assert r.status_code == 202, r.text
    task_id = r.json()["data"]["task_id"]
    assert _wait_terminal(a, task_id)["status"] == "completed"
    assert asyncio.run(_socket_hello(platform, a_key))["type"] == "connected"

    # Another API user's (and a person's) view of A's things: 404, as for any other owner.
    for client in (b, api.http):
        prefix = "" if client is b else "/api/v1"
        assert_error(client.get(f"{prefix}/tasks/{task_id}"), 404, 1002)
        assert_error(client.get(f"{prefix}/dramas/{drama_id}"), 404, 1002)
    assert b.get("/dramas").json()["pagination"]["total"] == 0

    # The quota: a small daily one, spent, refused with Retry-After and the quota named.
    r = admin.put(f"/auth/api-users/{a_id}", json={"quota_per_day": 2})
    assert r.status_code == 200, r.text
    assert a.get(f"/tasks/{task_id}").status_code == 200
    assert a.get(f"/tasks/{task_id}").status_code == 200
    over = a.get(f"/tasks/{task_id}")
    body = over.json()
    assert over.status_code == 429 and body["code"] == 1005, over.text
    assert int(over.headers["Retry-After"]) > 0
    assert body["error"]["quota"] == {**body["error"]["quota"], "period": "day", "limit": 2}
    detail = admin.get(f"/auth/api-users/{a_id}").json()["data"]
    assert detail["usage_stats"]["today"] >= 6 and detail["usage_stats"]["failed_requests"] >= 1
    assert detail["quota"]["day"]["used"] == 2
    admin.put(f"/auth/api-users/{a_id}", json={"quota_per_day": None})

    # Regenerated: the old key is dead at once, the new one works.
    r = admin.post(f"/auth/api-users/{a_id}/regenerate-key")
    new_key = r.json()["data"]["api_key"]
    keys.append(new_key)
    assert_error(a.get(f"/tasks/{task_id}"), 401, 1006)
    a.headers["X-API-Key"] = new_key
    assert a.get(f"/tasks/{task_id}").status_code == 200

    # Disabled → 401; enabled → works again.
    assert admin.post(f"/auth/api-users/{a_id}/disable").status_code == 200
    assert_error(a.get(f"/tasks/{task_id}"), 401, 1006)
    assert admin.post(f"/auth/api-users/{a_id}/enable").status_code == 200
    assert a.get(f"/tasks/{task_id}").status_code == 200

    # Shown once: no later answer and no log line holds a key.
    later = admin.get("/auth/api-users").text + admin.get(f"/auth/api-users/{a_id}").text
    log = platform.log_path.read_text(errors="replace")
    for key in keys:
        assert key not in later
        assert key not in log and key[6:] not in log
    for client in (a, b, admin):
        client.close()


def test_a_refused_admin_password_stops_the_start(tmp_path: Path) -> None:
    """The gateway with a guessable admin password exits at once (status 2), saying why, before
    it serves or writes anything, and never printing the password. (`storyreel up` makes the
    same check first thing: `storyreel_cli.embedded.up`.)"""
    env = {
        **os.environ,
        "STORYREEL_DATA_DIR": str(tmp_path),
        "STORYREEL_ADMIN_USERNAME": "boss",
        "STORYREEL_ADMIN_PASSWORD": "password123",
    }
    gateway = str(Path(sys.executable).parent / "storyreel-gateway")
    done = subprocess.run(
        [gateway], env=env, cwd=tmp_path, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 2, done
    err = done.stderr.decode()
    assert "storyreel: the admin password is refused" in err, err
    assert "password123" not in err + done.stdout.decode()
    assert not list(tmp_path.iterdir())  # no store, no secret, nothing
