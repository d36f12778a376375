"""A registered, logged-in user of the REST API, for end-to-end tests."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import httpx
from PIL import Image

# The first admin the session's platform is started with (conftest.py `platform`).
ADMIN_USERNAME, ADMIN_PASSWORD = "e2e-admin", "lantern orchard drifting 17"


class Api:
    """A logged-in user of the REST API."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        name = "u" + uuid.uuid4().hex[:10]
        self.username, self.password = name, "pass-word-1"
        r = self.http.post(
            "/api/v1/auth/register",
            json={"username": name, "email": f"{name}@example.com", "password": self.password},
        )
        assert r.status_code == 201, r.text
        self._use(r.json()["data"]["access_token"])

    def _use(self, token: str) -> None:
        self.token = token
        self.http.headers["Authorization"] = f"Bearer {token}"

    def login(self) -> None:
        """A new session (e.g. after a test logged this one out)."""
        r = self.http.post(
            "/api/v1/auth/login", json={"username": self.username, "password": self.password}
        )
        assert r.status_code == 200, r.text
        self._use(r.json()["data"]["access_token"])

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(f"/api/v1{path}", **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(f"/api/v1{path}", **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.put(f"/api/v1{path}", **kw)

    def patch(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.patch(f"/api/v1{path}", **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.delete(f"/api/v1{path}", **kw)


TERMINAL = ("completed", "failed", "cancelled")


def png(size: tuple[int, int] = (96, 128), colour: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def new_drama(api: Api, name: str = "Tea House") -> str:
    r = api.post("/dramas", json={"name": f"{name} {time.monotonic_ns()}"})
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def wait_task(api: Api, task_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data: dict[str, Any] = api.get(f"/tasks/{task_id}").json()["data"]
        if data["status"] in TERMINAL:
            return data
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish")


def completed_task(api: Api, r: httpx.Response, timeout: float = 120) -> dict[str, Any]:
    """The task a 202 started, once it has completed (seed 000's `wait_for_task`)."""
    assert r.status_code == 202, r.text
    task = wait_task(api, r.json()["data"]["task_id"], timeout=timeout)
    assert task["status"] == "completed", task
    return task


def download(api: Api, url: str) -> bytes:
    r = httpx.get(url, timeout=30)
    assert r.status_code == 200, (url, r.status_code)
    return r.content


def assert_error(r: httpx.Response, status: int, code: int) -> None:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text
