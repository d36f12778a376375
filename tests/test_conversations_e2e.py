"""Conversations through the running platform (seed 004's bodies): CRUD scoped to the owner,
and a task started in a conversation writing its message, pushed over the WebSocket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from e2e_client import Api, assert_error, new_drama, wait_task
from websockets.asyncio.client import connect


def ws_url(api: Api) -> str:
    base = str(api.http.base_url).replace("http://", "ws://").rstrip("/")
    return f"{base}/api/v1/ws?token={api.token}"


def test_conversation_crud_scoped_to_the_owner(api: Api, other_api: Api) -> None:
    r = api.post("/conversations", json={"title": "新对话"})
    assert r.status_code == 201, r.text
    conv = r.json()["data"]
    assert conv["title"] == "新对话" and conv["message_count"] == 0 and not conv["is_pinned"]
    cid = conv["id"]
    r = api.put(f"/conversations/{cid}", json={"title": "雪地冒险", "isPinned": True})
    assert r.status_code == 200 and r.json()["data"]["is_pinned"] is True
    listed = api.get("/conversations", params={"pageSize": 5}).json()
    assert listed["data"][0]["id"] == cid and listed["pagination"]["per_page"] == 5
    assert api.get("/conversations", params={"pinned": "false"}).json()["data"] == []
    assert api.get(f"/conversations/{cid}/messages").json()["data"] == []

    for call in (
        other_api.get(f"/conversations/{cid}"),
        other_api.put(f"/conversations/{cid}", json={"title": "x"}),
        other_api.delete(f"/conversations/{cid}"),
        other_api.get(f"/conversations/{cid}/messages"),
    ):
        assert_error(call, 404, 1002)
    assert other_api.get("/conversations").json()["data"] == []
    drama = new_drama(other_api)
    r = other_api.post(
        f"/dramas/{drama}/scripts/generate", json={"prompt": "x y z", "conversationId": cid}
    )
    assert_error(r, 404, 1002)  # refused before any task starts
    assert_error(api.post("/conversations", json={"title": "t" * 201}), 400, 1001)
    assert_error(api.put(f"/conversations/{cid}", json={}), 400, 1001)

    assert api.delete(f"/conversations/{cid}").status_code == 200
    assert_error(api.get(f"/conversations/{cid}"), 404, 1002)


def test_a_finished_task_writes_and_pushes_a_message(api: Api) -> None:
    cid = api.post("/conversations", json={"title": "drafts"}).json()["data"]["id"]
    drama_id = new_drama(api)

    async def scenario() -> tuple[str, dict[str, Any]]:
        async with connect(ws_url(api)) as ws:
            assert json.loads(await ws.recv())["type"] == "connected"
            r = api.post(
                f"/dramas/{drama_id}/scripts/generate",
                json={"prompt": "Mara met Jon at the harbour.", "conversationId": cid},
            )
            assert r.status_code == 202, r.text
            task_id: str = r.json()["data"]["task_id"]
            while True:  # no subscribe: every socket of the owner gets message.new
                message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if message["type"] == "message.new":
                    return task_id, message

    task_id, pushed = asyncio.run(scenario())
    assert pushed["conversation_id"] == cid
    assert task_id in pushed["data"]["content"] and "completed" in pushed["data"]["content"]
    assert wait_task(api, task_id)["status"] == "completed"
    page = api.get(f"/conversations/{cid}/messages").json()
    assert page["pagination"]["total"] == 1
    (message,) = page["data"]
    assert message["id"] == pushed["data"]["message_id"]
    assert message["role"] == "system" and message["type"] == "task.completed"
    assert message["metadata"]["task_id"] == task_id
    conv = api.get(f"/conversations/{cid}").json()["data"]
    assert conv["message_count"] == 1 and conv["preview_text"]
