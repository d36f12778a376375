"""A registered, logged-in user of the REST API, for end-to-end tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


class Api:
    """A logged-in user of the REST API."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        name = "u" + uuid.uuid4().hex[:10]
        r = self.http.post(
            "/api/v1/auth/register",
            json={"username": name, "email": f"{name}@example.com", "password": "pass-word-1"},
        )
        assert r.status_code == 201, r.text
        self.token = r.json()["data"]["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

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
