"""Follow a task over the gateway's push channel, falling back to polling.

The push channel is the WebSocket `GET /api/v1/ws?token=…` (README "Live progress"):
`{"type": "subscribe", "task_id"}` is answered `subscribed`, then the task's current state and
every change as `task.progress` `{status, progress (percent), current_step, details,
current_item}`, ending with `task.completed` or `task.failed`. Each is handed to `on_update`
in `GET /tasks/{id}`'s shape (`progress.percentage`), and the finished task is read once with
`GET /tasks/{id}` (signed URLs, the whole record). When the socket cannot be opened, is
refused (no bus: 503; a token it does not take: 4401) or closes before the end, the task is
polled instead (`StoryReelClient.wait`), from where it then is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from storyreel_cli.client import StoryReelClient

TERMINAL = ("task.completed", "task.failed")
# Under the gateway's idle limit (STORYREEL_WS_IDLE_TIMEOUT_S, 90 s by default): a ping
# after this long without a frame keeps the socket open through a long encode.
PING_EVERY_S = 30.0
OPEN_TIMEOUT_S = 10.0
MAX_FRAME = 16 * 1024 * 1024  # a finished render's result (its shot list) in one frame


class LiveUnavailable(RuntimeError):
    """The push channel could not be used (the reason says why); poll instead."""


def ws_url(base_url: str, token: str) -> str:
    """`http(s)://host/prefix` → `ws(s)://host/prefix/api/v1/ws?token=…`."""
    parts = urlsplit(base_url.rstrip("/"))
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = f"{parts.path}/api/v1/ws"
    return urlunsplit((scheme, parts.netloc, path, f"token={quote(token, safe='')}", ""))


def as_task(task_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """A pushed `task.progress` record in `GET /tasks/{id}`'s shape."""
    details = data.get("details") or {}
    return {
        "task_id": task_id,
        "status": data.get("status", "running"),
        "progress": {**details, "percentage": float(data.get("progress") or 0.0)},
        "current_step": data.get("current_step"),
        "current_item": data.get("current_item"),
    }


def watch_pushed(
    url: str,
    task_id: str,
    on_update: Callable[[dict[str, Any]], None],
    *,
    timeout: float = 1800.0,
) -> str:
    """Subscribe to `task_id` on the socket at `url` and relay its progress until its terminal
    message; returns that message's type. Raises `LiveUnavailable` otherwise."""
    deadline = time.monotonic() + timeout
    try:
        with connect(url, open_timeout=OPEN_TIMEOUT_S, close_timeout=2, max_size=MAX_FRAME) as ws:
            hello = json.loads(ws.recv(timeout=OPEN_TIMEOUT_S))
            if hello.get("type") != "connected":
                raise LiveUnavailable(f"unexpected greeting {hello.get('type')!r}")
            ws.send(json.dumps({"type": "subscribe", "task_id": task_id}))
            while time.monotonic() < deadline:
                try:
                    message = json.loads(ws.recv(timeout=PING_EVERY_S))
                except TimeoutError:
                    ws.send(json.dumps({"type": "ping"}))
                    continue
                kind = message.get("type")
                if kind == "error":
                    raise LiveUnavailable(str(message.get("message", "error frame")))
                if kind == "reconnect":
                    raise LiveUnavailable(f"asked to reconnect ({message.get('reason')})")
                if message.get("task_id") != task_id:
                    continue  # subscribed, pong, a conversation message
                if kind == "task.progress":
                    on_update(as_task(task_id, message.get("data") or {}))
                elif kind in TERMINAL:
                    return str(kind)
            raise LiveUnavailable(f"no end of task {task_id} within {timeout:g} s")
    except (OSError, TimeoutError, WebSocketException, ValueError) as exc:
        # An invalid-URI error quotes the URL: the token in it must not reach the terminal.
        reason = str(exc).replace(url, "<socket URL>")
        raise LiveUnavailable(f"{type(exc).__name__}: {reason}") from exc


def follow(
    client: StoryReelClient,
    task_id: str,
    on_update: Callable[[dict[str, Any]], None],
    *,
    notice: Callable[[str], None] = lambda _: None,
    url: str | None = None,
    timeout: float = 1800.0,
) -> tuple[dict[str, Any], str]:
    """The finished task (as `GET /tasks/{id}` answers it) and how it was followed:
    "websocket", or "polling" after `notice` was told why the push channel failed. `url`
    overrides the socket's address (default: the client's gateway)."""
    if client.token:
        try:
            watch_pushed(url or ws_url(client.base_url, client.token), task_id, on_update,
                         timeout=timeout)  # fmt: skip
            task: dict[str, Any] = client.request("GET", f"/tasks/{task_id}")
            on_update(task)
            return task, "websocket"
        except LiveUnavailable as exc:
            notice(f"live progress unavailable ({exc}); polling instead")
    return client.wait(task_id, on_update, timeout=timeout), "polling"
