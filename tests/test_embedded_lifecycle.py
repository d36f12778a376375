"""`make run` semantics: Ctrl-C stops everything (the nats-server child too); data survives."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from storyreel_cli.platform_process import PlatformProcess


def nats_children(data_dir: Path) -> list[str]:
    found = subprocess.run(
        ["pgrep", "-f", f"{data_dir}/nats/nats-server.conf"], capture_output=True, text=True
    )
    return found.stdout.split()


def test_ctrl_c_stops_everything_and_a_restart_finds_the_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = PlatformProcess(data).start()
    http = httpx.Client(base_url=first.url, timeout=30)
    creds = {"username": "keeper", "email": "keeper@example.com", "password": "pass-word-1"}
    token = http.post("/api/v1/auth/register", json=creds).json()["data"]["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    drama = http.post("/api/v1/dramas", json={"name": "Kept"}, headers=headers).json()["data"]
    assert nats_children(data), "the bundled nats-server should run as a child"
    assert first.stop() == 0
    assert nats_children(data) == []

    second = PlatformProcess(data).start()
    try:
        http = httpx.Client(base_url=second.url, timeout=30)
        login = http.post(
            "/api/v1/auth/login", json={"username": "keeper", "password": "pass-word-1"}
        )
        assert login.status_code == 200
        headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        r = http.get(f"/api/v1/dramas/{drama['id']}", headers=headers)
        assert r.status_code == 200 and r.json()["data"]["name"] == "Kept"
        # The token from the first run still verifies: the signing secret was kept under data/.
        assert (
            http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}).status_code
            == 200
        )
    finally:
        second.stop()
