"""Realtime task progress through the running platform: WebSocket `/api/v1/ws` and SSE.

Events travel the real way: a worker publishes its task record on NATS, the gateway's feed
fans it out, the socket or stream delivers it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_client import Api, assert_error
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from storyreel_cli.platform_process import PlatformProcess

STORY = "林风走进茶馆。苏梅说：“真相在北边的高塔。”林风点了点头。"
SMALL = {
    "scene_count": 1,
    "video": {"fps": 8, "resolution": "180x320", "transition": "none"},
    "music": False,
}


def ws_url(api: Api, token: str | None) -> str:
    base = str(api.http.base_url).replace("http://", "ws://").rstrip("/")
    return f"{base}/api/v1/ws" + (f"?token={token}" if token is not None else "")


def start_render(api: Api) -> str:
    r = api.post("/pipeline/render", json={"story": STORY, "options": SMALL})
    assert r.status_code == 202, r.text
    task_id: str = r.json()["data"]["task_id"]
    return task_id


async def recv(ws: ClientConnection, timeout: float = 30) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def until_terminal(ws: ClientConnection, timeout: float = 300) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = await recv(ws, deadline - time.monotonic())
        messages.append(message)
        if message["type"] in ("task.completed", "task.failed"):
            return messages
    raise AssertionError("no terminal message")


def test_socket_pushes_a_render_in_order_to_completion(api: Api) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with connect(ws_url(api, api.token)) as ws:
            hello = await recv(ws)
            assert hello["type"] == "connected" and hello["idle_timeout_s"] > 0
            task_id = start_render(api)
            await ws.send(json.dumps({"type": "subscribe", "taskId": task_id}))  # seed 004's key
            assert await recv(ws) == {"type": "subscribed", "task_id": task_id}
            return await until_terminal(ws)

    messages = asyncio.run(scenario())
    task_id = messages[0]["task_id"]
    progress = [m for m in messages if m["type"] == "task.progress"]
    assert progress, "at least the current state is pushed on subscribe"
    assert all(m["task_id"] == task_id for m in messages)
    percents = [m["data"]["progress"] for m in progress]
    assert percents == sorted(percents), percents  # one task's events arrive in order
    final = messages[-1]
    assert final["type"] == "task.completed", final
    assert [m["type"] for m in messages].count("task.completed") == 1
    result = final["data"]["result"]
    assert result["video_url"].startswith("http") and "sig=" in result["video_url"]
    assert api.get(f"/tasks/{task_id}").json()["data"]["status"] == "completed"


def test_socket_without_a_valid_token_is_closed_4401(api: Api) -> None:
    async def scenario(token: str | None) -> tuple[dict[str, Any], int | None]:
        async with connect(ws_url(api, token)) as ws:
            error = await recv(ws)
            with pytest.raises(ConnectionClosed) as closed:
                await recv(ws)
            return error, closed.value.rcvd.code if closed.value.rcvd else None

    for token in (None, "not-a-jwt", api.token[:-4] + "AAAA"):
        error, code = asyncio.run(scenario(token))
        assert error["type"] == "error" and error["code"] == 1006
        assert code == 4401


def test_another_users_task_is_an_error_frame_and_close_4404(api: Api, other_api: Api) -> None:
    foreign = start_render(other_api)

    async def scenario(task_id: str) -> tuple[dict[str, Any], int | None]:
        async with connect(ws_url(api, api.token)) as ws:
            await recv(ws)
            await ws.send(json.dumps({"type": "subscribe", "task_id": task_id}))
            error = await recv(ws)
            with pytest.raises(ConnectionClosed) as closed:
                await recv(ws)
            return error, closed.value.rcvd.code if closed.value.rcvd else None

    for task_id in (foreign, "task_doesnotexist"):
        error, code = asyncio.run(scenario(task_id))
        assert error == {"type": "error", "code": 1002, "message": error["message"]}
        assert code == 4404


def test_ping_pong_and_bad_frames_keep_the_socket(api: Api) -> None:
    """Also: the server declines permessage-deflate (the client offers it, as browsers do), so
    a push is not compressed once per socket."""
    extensions: list[str | None] = []

    async def scenario() -> list[dict[str, Any]]:
        async with connect(ws_url(api, api.token), compression="deflate") as ws:
            assert ws.response is not None
            extensions.append(ws.response.headers.get("Sec-WebSocket-Extensions"))
            await recv(ws)
            answers = []
            for frame in (
                '{"type": "ping"}',
                "not json",
                '{"type": "dance"}',
                '{"type": "subscribe"}',
                "[1, 2]",
                '{"type": "ping"}',
            ):
                await ws.send(frame)
                answers.append(await recv(ws))
            await ws.send(b"\x00binary")
            answers.append(await recv(ws))
            return answers

    answers = asyncio.run(scenario())
    assert extensions == [None]
    assert answers[0] == {"type": "pong"} and answers[-2] == {"type": "pong"}
    for answer in answers[1:5] + answers[-1:]:
        assert answer["type"] == "error" and answer["code"] == 1001, answer


def test_sse_streams_a_task_until_it_ends(api: Api, other_api: Api) -> None:
    task_id = start_render(api)
    events: list[tuple[str, dict[str, Any]]] = []
    with api.http.stream("GET", f"/api/v1/tasks/{task_id}/events", timeout=300) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in r.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
    assert events[-1][0] == "task.completed", events[-1]
    assert all(data["task_id"] == task_id for _, data in events)
    assert [name for name, _ in events[:-1]] == ["task.progress"] * (len(events) - 1)
    assert_error(other_api.get(f"/tasks/{task_id}/events"), 404, 1002)
    assert_error(httpx.get(f"{api.http.base_url}/api/v1/tasks/{task_id}/events"), 401, 1006)


def test_two_hundred_idle_sockets_leave_rest_answering(api: Api) -> None:
    async def scenario() -> tuple[int, list[int]]:
        sockets = [await connect(ws_url(api, api.token)) for _ in range(200)]
        try:
            hellos = await asyncio.gather(*(recv(ws) for ws in sockets))
            statuses = []
            async with httpx.AsyncClient(
                base_url=str(api.http.base_url), headers=dict(api.http.headers), timeout=10
            ) as http:
                for _ in range(5):
                    statuses.append((await http.get("/api/v1/users/me")).status_code)
            pongs = 0
            for ws in sockets[::20]:
                await ws.send('{"type": "ping"}')
                pongs += (await recv(ws))["type"] == "pong"
            assert all(h["type"] == "connected" for h in hellos)
            return pongs, statuses
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))

    pongs, statuses = asyncio.run(scenario())
    assert pongs == 10
    assert statuses == [200] * 5


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    """A platform whose sockets idle out after 1 s and live at most 3 s."""
    proc = PlatformProcess(
        Path(tmp_path_factory.mktemp("capped")),
        env={"STORYREEL_WS_IDLE_TIMEOUT_S": "1", "STORYREEL_REALTIME_MAX_LIFETIME_S": "3"},
    ).start()
    yield proc
    proc.stop()


def test_idle_and_lifetime_caps_ask_the_client_to_reconnect(capped: PlatformProcess) -> None:
    api = Api(capped.url)

    async def scenario(keep_alive: bool) -> tuple[list[dict[str, Any]], int | None, float]:
        received: list[dict[str, Any]] = []
        async with connect(ws_url(api, api.token)) as ws:
            began = time.monotonic()

            async def pinger() -> None:
                while keep_alive:
                    await asyncio.sleep(0.3)
                    await ws.send('{"type": "ping"}')

            pinging = asyncio.create_task(pinger())
            try:
                while True:
                    received.append(await recv(ws, 10))
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                return received, code, time.monotonic() - began
            finally:
                pinging.cancel()
                await asyncio.gather(pinging, return_exceptions=True)

    received, code, _ = asyncio.run(scenario(keep_alive=False))
    assert received[-1]["type"] == "reconnect" and received[-1]["reason"] == "idle"
    assert received[-1]["retry_after_s"] > 0 and code == 4408
    received, code, lasted = asyncio.run(scenario(keep_alive=True))
    assert {"type": "pong"} in received  # kept alive past the 1 s idle cap …
    assert received[-1]["type"] == "reconnect" and received[-1]["reason"] == "lifetime"
    assert code == 4000 and 3 <= lasted < 6  # … until the 3 s lifetime cap
