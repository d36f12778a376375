"""Seed 001's workflow through REST and its WebSocket, on the running platform.

One workflow is watched over `/api/v1/workflow/{id}/ws` from creation to its final video: it is
paused at once (no stage advances while paused, checked for a few seconds), resumed, stops at
its review point after the storyboard, has a shot's prompt and narration edited through the
studio API, and the later stages use the edit (the frame is drawn from the new prompt, the
final cut's subtitles carry the new narration). A second workflow is cancelled mid-render.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pysubs2
from e2e_client import Api, assert_error, download
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

STORY = "林风走进茶馆。苏梅说：“真相在北边的高塔。”林风点了点头。"
PREFERENCES = {
    "scene_count": 2,
    "resolution": "180x320",
    "frame_rate": 8,
    "transition": "none",
    "music": False,
}
STAGES = ["script", "assets", "storyboard", "frames", "audio", "video", "final"]
NEW_PROMPT = "a lone lighthouse on a stormy cliff at night"
NEW_NARRATION = "灯塔在风雨中亮起。"


def create(api: Api, name: str, **preferences: Any) -> str:
    body = {
        "name": name,
        "input_type": "prompt",
        "input_content": STORY,
        "options": {"ai_provider": "offline", "preferences": {**PREFERENCES, **preferences}},
    }
    r = api.post("/workflow", json=body)
    assert r.status_code == 202, r.text
    data = r.json()["data"]
    assert data["status"] == "pending" and data["created_at"]
    return str(data["workflow_id"])


def get(api: Api, workflow_id: str) -> dict[str, Any]:
    r = api.get(f"/workflow/{workflow_id}")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def wait_for(api: Api, workflow_id: str, check: Any, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = get(api, workflow_id)
        if check(doc):
            return doc
        assert doc["status"] not in ("failed", "completed", "cancelled"), doc
        time.sleep(0.2)
    raise AssertionError(f"workflow {workflow_id} never got there: {get(api, workflow_id)}")


def stages(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["stage"]: s for s in doc["stages"]}


def held(doc: dict[str, Any]) -> bool:
    """Paused with nothing running: the running stage finished and no next one started."""
    return doc["status"] == "paused" and all(s["status"] != "running" for s in doc["stages"])


def ws_url(api: Api, workflow_id: str, token: str) -> str:
    base = str(api.http.base_url).replace("http://", "ws://").rstrip("/")
    return f"{base}/api/v1/workflow/{workflow_id}/ws?token={token}"


async def collect(ws: ClientConnection, into: list[dict[str, Any]]) -> None:
    """Every message until the socket closes after the terminal one."""
    try:
        async for frame in ws:
            into.append(json.loads(frame))
    except ConnectionClosed:
        return


async def test_a_workflow_pauses_resumes_takes_edits_and_ends_with_a_video(
    api: Api, other_api: Api
) -> None:
    run = asyncio.to_thread
    workflow_id = await run(create, api, "Tea house", pause_after=["storyboard"])
    # The same name: its own drama all the same. It holds after frames until the cancel below,
    # so it cannot finish while the first one is paused and edited.
    doomed = await run(create, api, "Tea house", pause_after=["frames"])
    async with connect(ws_url(api, workflow_id, api.token)) as ws:
        messages: list[dict[str, Any]] = []
        reader = asyncio.create_task(collect(ws, messages))
        await ws.send(json.dumps({"type": "ping"}))

        # --- pause at once: nothing advances while paused ---------------------------------
        r = await run(api.post, f"/workflow/{workflow_id}/pause")
        assert r.status_code == 200 and r.json()["data"]["status"] == "paused", r.text
        before = await run(wait_for, api, workflow_id, held)
        await asyncio.sleep(3)
        after = await run(get, api, workflow_id)
        assert after["status"] == "paused"
        assert [s["status"] for s in after["stages"]] == [s["status"] for s in before["stages"]]
        assert stages(after)["storyboard"]["task_ids"] == []
        r = await run(api.post, f"/workflow/{workflow_id}/resume")
        assert r.status_code == 200 and r.json()["data"]["status"] == "running", r.text

        # --- the review point after the storyboard: edit a shot, then go on ---------------
        doc = await run(wait_for, api, workflow_id, held)
        assert stages(doc)["storyboard"]["status"] == "completed"
        assert stages(doc)["frames"]["status"] == "pending"
        assert doc["script"]["id"] and doc["script"]["scene_count"] >= 1
        assert {a["name"] for a in doc["assets"]} >= {"林风", "苏梅"}
        assert all(a["image_url"] for a in doc["assets"])
        drama, shot = doc["drama_id"], doc["storyboard"]["storyboard_ids"][0]
        edit = {"prompt": NEW_PROMPT, "narration": NEW_NARRATION}
        r = await run(api.put, f"/dramas/{drama}/storyboards/{shot}", json=edit)
        assert r.status_code == 200, r.text
        r = await run(api.post, f"/workflow/{workflow_id}/resume")
        assert r.status_code == 200, r.text

        # --- the other workflow is cancelled mid-render -----------------------------------
        await run(wait_for, api, doomed, lambda d: d["status"] == "paused")
        r = await run(api.post, f"/workflow/{doomed}/resume")
        assert r.status_code == 200, r.text
        rendering = ("audio", "video", "final")
        late = await run(wait_for, api, doomed, lambda d: d["current_stage"] in rendering)
        r = await run(api.post, f"/workflow/{doomed}/cancel")
        assert r.status_code == 200 and r.json()["data"]["status"] == "cancelled", r.text
        running = stages(r.json()["data"])[late["current_stage"]]
        for task_id in running["task_ids"]:
            task = (await run(api.get, f"/tasks/{task_id}")).json()["data"]
            assert task["status"] in ("cancelled", "completed"), task

        await asyncio.wait_for(reader, 150)
    done = await run(get, api, workflow_id)
    assert done["status"] == "completed" and done["progress"] == 1.0, done
    kinds = [m["type"] for m in messages]
    assert kinds[0] == "progress" and "pong" in kinds, kinds
    assert [m["data"]["stage"] for m in messages if m["type"] == "stage_completed"] == STAGES
    assert kinds[-1] == "workflow_completed"
    progress = [m["data"]["overall_progress"] for m in messages if m["type"] == "progress"]
    assert all(0 <= p <= 1 for p in progress) and max(progress) > 0
    video = messages[-1]["data"]["video"]
    mp4 = await run(download, api, video["url"])
    assert mp4[4:8] == b"ftyp"
    assert done["video"]["url"] and done["video"]["duration"] > 0

    # The frame was drawn from the edited prompt, the subtitles say the edited narration.
    (frames_task,) = [
        t for t in stages(done)["frames"]["task_ids"]
        if (await run(api.get, f"/tasks/{t}")).json()["data"]["result"]["storyboard"]["id"]
        == shot
    ]  # fmt: skip
    drawn = (await run(api.get, f"/tasks/{frames_task}")).json()["data"]["result"]
    assert drawn["storyboard"]["prompt"] == NEW_PROMPT
    srt = pysubs2.SSAFile.from_string(
        (await run(download, api, done["video"]["subtitle_url"])).decode()
    )
    assert any(NEW_NARRATION.rstrip("。") in event.plaintext for event in srt), srt.to_string("srt")

    # The cancelled one stayed where it stopped.
    gone = await run(get, api, doomed)
    assert gone["status"] == "cancelled"
    assert stages(gone)["final"]["status"] in ("pending", "cancelled")

    # Owners only; the list filters by status.
    assert_error(await run(other_api.get, f"/workflow/{workflow_id}"), 404, 1002)
    assert_error(await run(other_api.post, f"/workflow/{workflow_id}/pause"), 404, 1002)
    async with connect(ws_url(other_api, workflow_id, other_api.token)) as foreign:
        error = json.loads(await foreign.recv())
        assert error["type"] == "error" and error["code"] == 1002
        await foreign.wait_closed()
        assert foreign.close_code == 4404
    listed = (await run(api.get, "/workflow", params={"status": "cancelled"})).json()["data"]
    assert [w["id"] for w in listed["workflows"]] == [doomed] and listed["total"] == 1


def test_bad_workflow_requests_are_4xx_envelopes(api: Api) -> None:
    good = {"name": "x", "input_type": "prompt", "input_content": STORY}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**good, "input_type": "pdf"}, "input_type"),
        ({**good, "input_content": "   "}, "input_content"),
        ({**good, "options": {"preferences": {"scene_count": 99}}}, "scene_count"),
        ({**good, "options": {"preferences": {"resolution": "huge"}}}, "resolution"),
        ({**good, "options": {"ai_provider": "nobody"}}, "ai_provider"),
        ({**good, "options": {"preferences": {"$where": 1}}}, "options"),
        ({**good, "options": {"preferences": {"pause_after": ["lunch"]}}}, "pause_after"),
    ]
    for body, field in cases:
        r = api.post("/workflow", json=body)
        assert_error(r, 400, 1001)
        assert field in str(r.json()["error"]["field"]), r.text
    assert_error(api.get("/workflow/wf_unknown"), 404, 1002)
    assert_error(api.get("/workflow/not-an-id"), 404, 1002)
    assert_error(api.get("/workflow", params={"status": "sleeping"}), 400, 1001)
    r = httpx.post(f"{api.http.base_url}/api/v1/workflow", json=good)
    assert r.status_code == 401


async def test_the_workflow_socket_refuses_bad_tokens_and_unknown_ids(api: Api) -> None:
    for workflow_id, token, code, close in (
        ("wf_0000", "not-a-token", 1006, 4401),
        ("wf_0000", api.token, 1002, 4404),
        ("not-an-id", api.token, 1002, 4404),
    ):
        async with connect(ws_url(api, workflow_id, token)) as ws:
            error = json.loads(await ws.recv())
            assert error["type"] == "error" and error["code"] == code, error
            await ws.wait_closed()
            assert ws.close_code == close
