"""A small client of the gateway's REST API, used by the `storyreel` command and the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx


class ApiError(RuntimeError):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        super().__init__(f"HTTP {status}: {body.get('message', body)}")


TOKEN_EXPIRED = 1007


class Unreachable(RuntimeError):
    """The gateway did not answer (nothing listening, wrong host, timeout)."""


class StoryReelClient:
    """Logged in, it keeps the refresh token too: access tokens live 15 minutes by default and a
    render can take longer, so an expired one is renewed once (`/auth/refresh`) and the request
    sent again."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout)
        self.token = token
        self.refresh_token: str | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> StoryReelClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return self._send(method, path, **kwargs)
        except ApiError as exc:
            if exc.body.get("code") != TOKEN_EXPIRED or not self.refresh_token:
                raise
            self._keep(
                self._send("POST", "/auth/refresh", json={"refresh_token": self.refresh_token})
            )
            return self._send(method, path, **kwargs)

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self.http.request(method, f"/api/v1{path}", headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach StoryReel at {self.base_url}: {_reason(exc)}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text[:200] or response.reason_phrase}
        if response.status_code >= 400:
            raise ApiError(response.status_code, body if isinstance(body, dict) else {})
        return body["data"]

    def _keep(self, tokens: dict[str, Any]) -> None:
        self.token = tokens["access_token"]
        self.refresh_token = tokens.get("refresh_token")

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Log in; keeps the access token and returns the token pair."""
        data: dict[str, Any] = self.request(
            "POST", "/auth/login", json={"username": username, "password": password}
        )
        self._keep(data)
        return data

    def register(self, username: str, email: str, password: str) -> dict[str, Any]:
        """Create the account; keeps the access token and returns the token pair."""
        data: dict[str, Any] = self.request(
            "POST",
            "/auth/register",
            json={"username": username, "email": email, "password": password},
        )
        self._keep(data)
        return data

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        data: dict[str, Any] = self.request(
            "POST", "/auth/refresh", json={"refresh_token": refresh_token}
        )
        self._keep(data)
        return data

    def login_or_register(self, username: str, password: str, email: str | None = None) -> None:
        """For benchmarks and tests that make their own throwaway account."""
        try:
            self.login(username, password)
        except ApiError as exc:
            if exc.status != 401:
                raise
            self.register(username, email or f"{username}@storyreel.local", password)

    def render(self, story: str, style: str = "", **options: Any) -> str:
        data = self.request(
            "POST", "/pipeline/render", json={"story": story, "style": style, "options": options}
        )
        return str(data["task_id"])

    def wait(
        self,
        task_id: str,
        on_update: Callable[[dict[str, Any]], None] | None = None,
        timeout: float = 1800.0,
        interval: float = 0.5,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            task: dict[str, Any] = self.request("GET", f"/tasks/{task_id}")
            if on_update:
                on_update(task)
            if task["status"] in ("completed", "failed", "cancelled"):
                return task
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} still {task['status']}")
            time.sleep(interval)

    def download(self, url: str, dest: Path) -> Path:
        try:
            with self.http.stream("GET", url) as response:
                response.raise_for_status()
                with dest.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot download {url}: {_reason(exc)}") from exc
        return dest


def _reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused or host not found"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    return type(exc).__name__
