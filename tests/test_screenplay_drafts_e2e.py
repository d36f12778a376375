"""Seed 004's screenplay drafts, typed tasks and media service through the running platform,
with the seed's bodies (camelCase): a draft is written into a conversation, edited,
confirmed into a drama that renders; images and videos are generated and read back; another
user's ids are 404 and bad bodies a 4xx envelope."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

from e2e_client import Api, assert_error, completed_task, download, png, wait_task
from PIL import Image

# Two sentences, two scenes: the offline screenwriter splits a story and never pads it.
PROMPT = (
    "A lighthouse keeper named Mara saves a young fisherman named Tom during a storm. "
    "At dawn Tom climbs the tower to thank Mara."
)
SIZE, FPS = "180x320", 12


def wait_draft(api: Api, screenplay_id: str, status: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.get(f"/screenplays/{screenplay_id}")
        assert r.status_code == 200, r.text
        draft: dict[str, Any] = r.json()["data"]
        assert draft["status"] != "failed", draft
        if draft["status"] == status:
            return draft
        time.sleep(0.2)
    raise AssertionError(f"screenplay {screenplay_id} never became {status}")


def test_seed_004_draft_edit_confirm_render(api: Api, other_api: Api) -> None:
    cid = api.post("/conversations", json={"title": "雪地冒险"}).json()["data"]["id"]
    preset = api.get("/personas/preset").json()["data"][0]["id"]
    # Seed 004's POST /tasks body; the user image is a base64 character reference.
    body = {
        "type": "screenplay",
        "conversationId": cid,
        "params": {
            "prompt": PROMPT,
            "userImages": [base64.b64encode(png((64, 64))).decode()],
            "sceneCount": 2,
            "characterCount": 2,
            "personaId": preset,
        },
    }
    r = api.post("/tasks", json=body)
    assert r.status_code == 202, r.text
    task = r.json()["data"]
    assert task["type"] == "screenplay" and task["screenplay_id"].startswith("screenplay_")
    sid = task["screenplay_id"]
    assert api.get(f"/tasks/{task['task_id']}/progress").json()["data"]["status"] in (
        "pending",
        "running",
        "completed",
    )
    listed = api.get("/tasks", params={"type": "screenplay"}).json()["data"]
    assert [t["task_id"] for t in listed] == [task["task_id"]]
    assert api.get("/tasks", params={"type": "image"}).json()["data"] == []

    draft = wait_draft(api, sid, "draft")
    assert [s["scene_id"] for s in draft["scenes"]] == [1, 2]
    assert all(s["narration"] and s["image_prompt"] and s["video_prompt"] for s in draft["scenes"])
    sheets = {c["name"]: c for c in draft["character_sheets"]}
    assert set(sheets) == {"Mara", "Tom"}
    combined = download(api, sheets["Mara"]["combined_view_url"])
    assert combined.startswith(b"\x89PNG")
    # The combined view is a turnaround: front, side and back side by side, 3:2.
    assert Image.open(io.BytesIO(combined)).size == (540, 360)
    # The conversation got the draft-ready message.
    messages = api.get(f"/conversations/{cid}/messages").json()["data"]
    ready = [m for m in messages if m["type"] == "screenplay"]
    assert len(ready) == 1 and ready[0]["metadata"]["screenplay_id"] == sid

    # Another user sees none of it.
    for call in (
        other_api.get(f"/screenplays/{sid}"),
        other_api.put(f"/screenplays/{sid}", json={"title": "x"}),
        other_api.post(f"/screenplays/{sid}/confirm", json={}),
        other_api.get(f"/tasks/{task['task_id']}/progress"),
    ):
        assert_error(call, 404, 1002)
    assert other_api.get("/tasks", params={"type": "screenplay"}).json()["data"] == []
    assert_error(
        other_api.post("/screenplays/draft", json={"prompt": PROMPT, "conversationId": cid}),
        404,
        1002,
    )

    # Edits, validated.
    assert_error(api.put(f"/screenplays/{sid}", json={"scenes": [{"sceneId": 9}]}), 400, 1001)
    assert_error(api.put(f"/screenplays/{sid}", json={}), 400, 1001)
    assert_error(
        api.put(f"/screenplays/{sid}", json={"scenes": [{"sceneId": 1, "narration": "  "}]}),
        400,
        1001,
    )
    tom = sheets["Tom"]["id"]
    r = api.put(
        f"/screenplays/{sid}",
        json={
            "title": "Storm Light",
            "scenes": [{"sceneId": 2, "narration": "At dawn Tom climbs the tower to thank her."}],
            "characterSheets": [{"id": tom, "description": "young fisherman, yellow raincoat"}],
        },
    )
    assert r.status_code == 200, r.text
    edited = r.json()["data"]
    assert edited["title"] == "Storm Light"
    assert edited["scenes"][1]["narration"] == "At dawn Tom climbs the tower to thank her."

    # Confirm: a studio drama with its script, characters and storyboards.
    r = api.post(f"/screenplays/{sid}/confirm", json={"feedback": "more wind"})
    assert r.status_code == 202, r.text
    confirmed = r.json()["data"]
    assert confirmed["status"] in ("confirmed", "completed") and confirmed["drama_id"]
    assert_error(api.post(f"/screenplays/{sid}/confirm", json={}), 409, 1003)
    assert_error(api.put(f"/screenplays/{sid}", json={"title": "late"}), 409, 1003)
    completed = wait_draft(api, sid, "completed")
    for scene in completed["scenes"]:  # each scene shows its storyboard's frame
        assert scene["status"] == "completed", scene
        assert download(api, scene["image_url"]).startswith(b"\x89PNG")
    drama = confirmed["drama_id"]
    script = api.get(f"/dramas/{drama}/scripts/{confirmed['script_id']}").json()["data"]
    assert script["title"] == "Storm Light" and script["metadata"]["feedback"] == "more wind"
    characters = api.get(f"/dramas/{drama}/characters").json()["data"]
    assert {c["name"] for c in characters} == {"Mara", "Tom"}
    assert all(c["images"] for c in characters)  # each sheet is the character's default image
    boards = api.get(f"/dramas/{drama}/storyboards").json()["data"]
    assert boards and all(b["image_url"] for b in boards)
    final = completed_task(
        api,
        api.post(
            f"/dramas/{drama}/videos/render",
            json={"resolution": SIZE, "frame_rate": FPS, "music": {"enabled": False}},
        ),
        timeout=180,
    )["result"]["video"]
    assert download(api, final["url"])[4:8] == b"ftyp"


def test_seed_004_media_generate_and_read(api: Api, other_api: Api) -> None:
    # Upload: typed by content.
    r = api.post(
        "/media/images/upload",
        files={"file": ("a.png", png((80, 120)), "image/png")},
        data={"type": "reference"},
    )
    assert r.status_code == 201, r.text
    uploaded = r.json()["data"]
    assert (uploaded["width"], uploaded["height"]) == (80, 120) and uploaded["url"]
    assert_error(
        api.post("/media/images/upload", files={"file": ("x.png", b"not an image at all")}),
        415,
        3002,
    )

    # Image: seed 004's body (an unknown model is a 400 naming the configured ones).
    r = api.post(
        "/media/images/generate",
        json={"prompt": "A snowy landscape", "model": "gemini-3-pro-image-preview-hd",
              "size": "1024x1024"},
    )  # fmt: skip
    assert_error(r, 400, 1001)
    assert "offline" in r.json()["message"]
    r = api.post(
        "/media/images/generate",
        json={"prompt": "A snowy landscape at dusk", "size": "160x288",
              "referenceImages": [uploaded["id"]]},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    started = r.json()["data"]
    assert wait_task(api, started["task_id"])["status"] == "completed"
    image = api.get(f"/media/images/{started['id']}").json()["data"]
    assert image["status"] == "completed" and (image["width"], image["height"]) == (160, 288)
    stored = download(api, image["url"])
    assert stored.startswith(b"\x89PNG") and image["size"] == len(stored)  # bytes, as seed 004's

    # Video from the generated image, as a typed task in a conversation.
    cid = api.post("/conversations", json={"title": "clips"}).json()["data"]["id"]
    r = api.post(
        "/tasks",
        json={"type": "video", "conversationId": cid,
              "params": {"imageId": image["id"], "prompt": "snow drifts", "seconds": "2"}},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    typed = r.json()["data"]
    assert typed["type"] == "video" and typed["media_id"].startswith("vid_")
    assert wait_task(api, typed["task_id"], timeout=90)["status"] == "completed"
    video = api.get(f"/media/videos/{typed['media_id']}").json()["data"]
    assert video["status"] == "completed" and abs(video["duration"] - 2) < 0.2
    assert download(api, video["url"])[4:8] == b"ftyp"
    assert video["size"] and video["image_id"] == image["id"]
    progress = api.get(f"/tasks/{typed['task_id']}/progress").json()["data"]
    assert progress["status"] == "completed" and progress["progress"] == 100
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        messages = api.get(f"/conversations/{cid}/messages").json()["data"]
        if messages:
            break
        time.sleep(0.1)
    assert messages[-1]["metadata"]["task_id"] == typed["task_id"]
    assert [t["type"] for t in api.get("/tasks", params={"type": "video"}).json()["data"]] == [
        "video"
    ]
    # Deleted, it leaves seed 004's listing (which still answers), and is gone for good.
    assert api.delete(f"/tasks/{typed['task_id']}").status_code == 200
    listed = api.get("/tasks", params={"type": "video"})
    assert listed.status_code == 200 and listed.json()["data"] == []
    assert_error(api.delete(f"/tasks/{typed['task_id']}"), 404, 1002)

    # Foreign ids: 404, before anything starts.
    for call in (
        other_api.get(f"/media/images/{image['id']}"),
        other_api.get(f"/media/videos/{video['id']}"),
        other_api.post("/media/videos/generate", json={"imageId": image["id"]}),
        other_api.post(
            "/media/images/generate", json={"prompt": "x", "referenceImages": [uploaded["id"]]}
        ),
    ):
        assert_error(call, 404, 1002)

    # Bad bodies.
    for r in (
        api.post("/media/images/generate", json={"prompt": ""}),
        api.post("/media/images/generate", json={"prompt": "x", "size": "10x10"}),
        api.post("/media/images/generate", json={"prompt": "x", "referenceImages": ["%%%"]}),
        api.post("/media/videos/generate", json={"imageId": image["id"], "seconds": 0}),
        api.post("/media/videos/generate", json={"imageId": image["id"], "model": "sora-1"}),
        api.post("/tasks", json={"type": "music", "params": {}}),
        api.post("/tasks", json={"type": "image", "params": {"prompt": 3}}),
        api.post("/screenplays/draft", json={"prompt": "x", "sceneCount": 31}),
        api.get("/tasks", params={"type": "music"}),
    ):
        assert_error(r, 400, 1001)
