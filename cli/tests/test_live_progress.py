"""The CLI's push-channel client without a platform: addresses, message shapes, and every way
the socket can fail turning into `LiveUnavailable` (so `follow` polls instead).

The server here is a real WebSocket server (`websockets.sync.server`) on a free loopback port
playing the gateway's side of the protocol in README "Live progress".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.sync.server import Server, ServerConnection, serve

from storyreel_cli.live_progress import LiveUnavailable, as_task, watch_pushed, ws_url
from storyreel_core.bus.nats_server import free_port


def test_ws_url_follows_the_gateway_scheme_and_prefix() -> None:
    assert ws_url("http://127.0.0.1:5678", "a b") == "ws://127.0.0.1:5678/api/v1/ws?token=a%20b"
    assert ws_url("https://reel.example/sr/", "t") == "wss://reel.example/sr/api/v1/ws?token=t"


def test_a_pushed_record_reads_like_get_task() -> None:
    data = {"status": "running", "progress": 42.5, "current_step": "drawing frames",
            "details": {"total": 5, "completed": 2}}  # fmt: skip
    task = as_task("task_1", data)
    assert task["progress"] == {"total": 5, "completed": 2, "percentage": 42.5}
    assert (task["status"], task["current_step"]) == ("running", "drawing frames")


@pytest.fixture
def gateway_side() -> Iterator[Callable[[Callable[[ServerConnection], None]], str]]:
    servers: list[Server] = []

    def start(handler: Callable[[ServerConnection], None]) -> str:
        port = free_port()
        server = serve(handler, "127.0.0.1", port)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"ws://127.0.0.1:{port}/api/v1/ws?token=t"

    yield start
    for server in servers:
        server.shutdown()


def greet_and_subscribe(ws: ServerConnection) -> str:
    ws.send(json.dumps({"type": "connected"}))
    request = json.loads(ws.recv())
    assert request["type"] == "subscribe"
    ws.send(json.dumps({"type": "subscribed", "task_id": request["task_id"]}))
    return str(request["task_id"])


def test_progress_is_relayed_in_order_until_the_terminal_message(
    gateway_side: Callable[[Callable[[ServerConnection], None]], str],
) -> None:
    def handler(ws: ServerConnection) -> None:
        task_id = greet_and_subscribe(ws)
        for n, step in enumerate(("writing screenplay", "composing video")):
            ws.send(json.dumps({"type": "task.progress", "task_id": task_id,
                                "data": {"progress": 50 * n, "current_step": step}}))  # fmt: skip
        ws.send(json.dumps({"type": "task.progress", "task_id": "task_other", "data": {}}))
        ws.send(json.dumps({"type": "task.completed", "task_id": task_id, "data": {}}))

    seen: list[dict[str, Any]] = []
    assert watch_pushed(gateway_side(handler), "task_1", seen.append) == "task.completed"
    assert [t["current_step"] for t in seen] == ["writing screenplay", "composing video"]


@pytest.mark.parametrize(
    "ending",
    [
        {"type": "reconnect", "reason": "idle", "retry_after_s": 1},
        {"type": "error", "code": 1002, "message": "task not found"},
        None,  # the socket closes before the task ends
    ],
)
def test_a_socket_that_ends_early_is_unavailable(
    gateway_side: Callable[[Callable[[ServerConnection], None]], str],
    ending: dict[str, Any] | None,
) -> None:
    def handler(ws: ServerConnection) -> None:
        greet_and_subscribe(ws)
        if ending is not None:
            ws.send(json.dumps(ending))

    with pytest.raises(LiveUnavailable):
        watch_pushed(gateway_side(handler), "task_1", lambda _: None)


def test_nothing_listening_is_unavailable_without_the_token_in_the_reason() -> None:
    with pytest.raises(LiveUnavailable) as caught:
        watch_pushed(f"ws://127.0.0.1:{free_port()}/api/v1/ws?token=secret", "t", lambda _: None)
    assert "secret" not in str(caught.value)
