"""Seed 001's stage endpoints (§3–§8) through REST on the running platform.

One journey drives every stage by hand with the seed's bodies: script from a prompt on a new
drama, design assets (with a reference upload and a redraw in place), a 2x2 storyboard with
`auto_crop` (the grid's four cells match the four shots' frames, and each crop is stored as its
shot's `cropped_image_url`), a shot's prompt edited and redrawn, the animatic (speech per shot,
then the motion preview), clips, and the final cut with subtitles and music. Uploads: .md and
.docx become a script's input, .pdf and .exe are 415. Another user's stage ids are 404.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

import docx
from e2e_client import Api, assert_error, completed_task, download, png, wait_task
from PIL import Image, ImageChops, ImageStat

STORY = "林风走进茶馆。苏梅说：“真相在北边的高塔。”林风点了点头。"
SMALL = {"resolution": "180x320", "frame_rate": 8}


def poll(api: Api, path: str, done: Any, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:
        r = api.get(path)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        if done(data):
            return data
        assert data["status"] not in ("failed", "cancelled"), data
        time.sleep(0.2)
    raise AssertionError(f"{path} never got there: {data}")


def image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def script_run(api: Api) -> tuple[str, str]:
    body = {
        "name": f"茶馆 {time.monotonic_ns()}",
        "input_type": "prompt",
        "input_content": STORY,
        "options": {"ai_provider": "offline", "scene_count": 2},
    }
    r = api.post("/workflow/script", json=body)
    accepted = r.json()["data"]
    completed_task(api, r)
    return str(accepted["id"]), str(accepted["drama_id"])


def test_every_stage_by_hand(api: Api, other_api: Api) -> None:
    script_id, drama = script_run(api)
    script = api.get(f"/workflow/script/{script_id}").json()["data"]
    assert script["status"] == "completed" and script["drama_id"] == drama
    assert "林风" in script["screenplay"] and script["scene_count"] == 2
    assert script["storyboard_script"] and script["script_id"].startswith("script_")

    # Assets: the script's cast and places, one design task; a reference; a redraw in place.
    r = api.post(
        "/workflow/assets",
        json={"drama_id": drama, "script_id": script_id, "options": {"image_provider": "offline"}},
    )
    completed_task(api, r)
    listed = api.get("/workflow/assets", params={"drama_id": drama}).json()["data"]
    kinds = {a["type"] for a in listed["assets"]}
    assert {"character", "scene"} <= kinds and listed["total"] == len(listed["assets"])
    people = api.get("/workflow/assets", params={"drama_id": drama, "type": "character"})
    hero = people.json()["data"]["assets"][0]
    assert {a["type"] for a in people.json()["data"]["assets"]} == {"character"}
    assert image(download(api, hero["design_image_url"])).size == (768, 512)
    r = api.post(
        f"/workflow/assets/{hero['id']}/upload",
        files={"file": ("ref.png", png((64, 64), (200, 40, 40)), "image/png")},
    )
    assert r.status_code == 201, r.text
    assert image(download(api, r.json()["data"]["reference_image_url"])).size == (64, 64)
    before = download(api, hero["design_image_url"])
    r = api.post(f"/workflow/assets/{hero['id']}/regenerate", json={"prompt": "red robe, tall"})
    assert r.json()["data"]["asset_id"] == hero["id"]
    completed_task(api, r)
    after = api.get("/workflow/assets", params={"drama_id": drama, "type": "character"})
    again = next(a for a in after.json()["data"]["assets"] if a["id"] == hero["id"])
    assert again["description"] == "red robe, tall" and again["reference_image_url"]
    assert download(api, again["design_image_url"]) != before

    # Storyboard: 2 scenes x 2 shots on a 2x2 grid, cropped back out.
    r = api.post(
        "/workflow/storyboard",
        json={
            "script_id": script_id,
            "options": {
                "grid_layout": "2x2",
                "ai_provider": "offline",
                "auto_crop": True,
                "count_per_scene": 2,
            },
        },
    )
    board_id = r.json()["data"]["id"]
    completed_task(api, r)
    board = poll(api, f"/workflow/storyboard/{board_id}", lambda d: d["grid_image_url"])
    shots = board["shots"]
    assert len(shots) == 4 and board["status"] == "completed" and board["grid_layout"] == "2x2"
    assert board["grid_shot_ids"] == [s["id"] for s in shots]
    grid = image(download(api, board["grid_image_url"]))
    cell_w, cell_h = grid.width // 2, grid.height // 2
    for i, shot in enumerate(shots):
        left, top = (i % 2) * cell_w, (i // 2) * cell_h
        cell = grid.crop((left, top, left + cell_w, top + cell_h))
        frame = image(download(api, shot["image_url"])).resize(cell.size, Image.Resampling.LANCZOS)
        assert mean_difference(cell, frame) < 2.0, (i, mean_difference(cell, frame))
        crop = image(download(api, shot["cropped_image_url"]))
        assert crop.size == cell.size and mean_difference(crop, cell) < 0.01
    assert (
        mean_difference(
            image(download(api, shots[0]["cropped_image_url"])),
            image(download(api, shots[1]["cropped_image_url"])),
        )
        > 1.0
    )  # the cells are different shots, not one image four times

    # Edit one shot's prompt and redraw it: the grid is composed again from the new frame.
    edited = shots[1]["id"]
    r = api.put(
        f"/workflow/storyboard/{board_id}/shots/{edited}",
        json={
            "prompt": "a lone lighthouse on a stormy cliff",
            "replacements": {"shot_type": "wide"},
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "pending_regeneration"
    assert r.json()["data"]["shot_type"] == "wide"
    r = api.post(f"/workflow/storyboard/{board_id}/regenerate", json={"options": {}})
    assert r.json()["data"]["task_ids"] == [r.json()["data"]["task_id"]]
    completed_task(api, r)
    redrawn = poll(
        api,
        f"/workflow/storyboard/{board_id}",
        lambda d: d["grid_image_url"] != board["grid_image_url"],
    )
    assert redrawn["shots"][1]["prompt"].startswith("a lone lighthouse")
    assert download(api, redrawn["grid_image_url"]) != download(api, board["grid_image_url"])

    # Animatic: speech per shot, then the motion preview.
    r = api.post(
        "/workflow/animatic",
        json={
            "storyboard_id": board_id,
            "options": {
                "video_provider": "",
                "audio_provider": "offline",
                "duration_control": {"min": 1.0, "max": 3.0},
                **SMALL,
            },
        },
    )
    assert r.status_code == 202, r.text
    animatic_id = r.json()["data"]["id"]
    animatic = poll(api, f"/workflow/animatic/{animatic_id}", lambda d: d["status"] == "completed")
    assert wait_task(api, animatic["motion_task_id"])["status"] == "completed"
    spoken = [s for s in animatic["shots"] if s["audio_url"]]
    assert spoken and all(s["video_url"] for s in animatic["shots"])
    starts = [s["start_time"] for s in animatic["shots"]]
    assert starts == sorted(starts) and animatic["total_duration"] > 0
    target = spoken[0]["shot_id"]
    r = api.post(
        f"/workflow/animatic/{animatic_id}/audio",
        json={"text": "灯塔亮了。", "shot_id": target, "options": {"provider": "offline"}},
    )
    completed_task(api, r)

    # Clips, then the final cut with subtitles and the music bed.
    r = api.post(
        "/workflow/video",
        json={"animatic_id": animatic_id, "options": {"provider": "", "quality": "low", **SMALL}},
    )
    video_id = r.json()["data"]["id"]
    completed_task(api, r, timeout=180)
    progress = api.get(f"/workflow/video/{video_id}/progress").json()["data"]
    assert progress["progress"] == 1.0 and progress["completed_segments"] == 4
    video = api.get(f"/workflow/video/{video_id}").json()["data"]
    assert [s["animatic_shot_id"] for s in video["segments"]] == [s["id"] for s in shots]
    assert all(s["status"] == "completed" and s["video_url"] for s in video["segments"])
    r = api.post(
        "/workflow/edit",
        json={
            "video_id": video_id,
            "options": {"add_background_music": True, **SMALL, "transition": "none"},
        },
    )
    edit_id = r.json()["data"]["id"]
    completed_task(api, r, timeout=180)
    edit = api.get(f"/workflow/edit/{edit_id}").json()["data"]
    assert edit["status"] == "completed" and edit["duration"] > 0
    assert edit["final_video_url"] and edit["subtitle_url"]
    assert "灯塔亮了" in download(api, edit["subtitle_url"]).decode("utf-8")
    r = api.post(f"/workflow/edit/{edit_id}/music", json={"volume": 0.2, "fade_in": 0.5})
    assert r.status_code == 202 and r.json()["data"]["edit_id"] == edit_id, r.text
    music_task = r.json()["data"]["task_id"]
    remixed = api.get(f"/workflow/edit/{edit_id}").json()["data"]
    assert remixed["task_id"] == music_task and remixed["task_ids"][-1] == music_task
    assert remixed["music"] == {
        "enabled": True,
        "asset_id": "",
        "volume": 0.2,
        "fade_in": 0.5,
        "fade_out": 2.0,
    }
    # The render itself is the studio's final cut, checked above: spare the suite a second one.
    assert api.post(f"/tasks/{music_task}/cancel").status_code in (200, 409)

    # Another user sees none of it.
    for path in (
        f"/workflow/script/{script_id}",
        f"/workflow/storyboard/{board_id}",
        f"/workflow/animatic/{animatic_id}",
        f"/workflow/video/{video_id}",
        f"/workflow/video/{video_id}/progress",
        f"/workflow/edit/{edit_id}",
    ):
        assert_error(other_api.get(path), 404, 1002)
    assert_error(other_api.get("/workflow/assets", params={"drama_id": drama}), 404, 1002)
    assert_error(other_api.post(f"/workflow/assets/{hero['id']}/regenerate", json={}), 404, 1002)
    assert_error(
        other_api.put(f"/workflow/storyboard/{board_id}/shots/{edited}", json={"prompt": "x"}),
        404,
        1002,
    )
    assert_error(other_api.post("/workflow/animatic", json={"storyboard_id": board_id}), 404, 1002)
    assert_error(
        other_api.post("/workflow/script", json={"drama_id": drama, "input_content": "x"}),
        404,
        1002,
    )


def word_document(*paragraphs: tuple[str, str]) -> bytes:
    document = docx.Document()
    for style, text in paragraphs:
        document.add_paragraph(text, style=style)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_story_file_uploads(api: Api, other_api: Api) -> None:
    md = "# 第一章\n\n林风走进茶馆。\n".encode()
    r = api.post("/workflow/script/upload", files={"file": ("novel.md", md, "text/markdown")})
    assert r.status_code == 201, r.text
    md_file = r.json()["data"]
    assert md_file["content_type"] == "text/markdown" and md_file["file_size"] == len(md)
    assert download(api, md_file["file_url"]) == md

    word = word_document(("Heading 1", "第一章 茶馆"), ("Normal", "苏梅说：“真相在北边的高塔。”"))
    r = api.post(
        "/workflow/script/upload", files={"file": ("novel.docx", word, "application/octet-stream")}
    )
    assert r.status_code == 201, r.text
    docx_file = r.json()["data"]
    assert docx_file["content_type"].endswith("wordprocessingml.document")
    r = api.post(
        "/workflow/script",
        json={
            "input_type": "file",
            "input_file_url": docx_file["file_url"],
            "options": {"scene_count": 1},
        },
    )
    run = r.json()["data"]["id"]
    completed_task(api, r)
    script = api.get(f"/workflow/script/{run}").json()["data"]
    assert script["input_type"] == "file" and "苏梅" in script["screenplay"]

    for name, data in (("story.pdf", b"%PDF-1.7\n%\xe2\xe3\n"), ("setup.exe", b"MZ\x90\x00" * 16)):
        r = api.post(
            "/workflow/script/upload", files={"file": (name, data, "application/octet-stream")}
        )
        assert_error(r, 415, 3002)
    r = api.post(
        "/workflow/script/upload", files={"file": ("fake.docx", b"not a zip", "text/plain")}
    )
    assert_error(r, 415, 3002)
    # Another user's uploaded file is not theirs to use.
    r = other_api.post(
        "/workflow/script", json={"input_type": "file", "input_file_id": md_file["file_id"]}
    )
    assert_error(r, 404, 1002)

    # A workflow from the uploaded file (seed 001: input_content is the file): by its id, or
    # its file_url; the script is written from the file's text.
    for reference in (md_file["file_id"], md_file["file_url"]):
        r = api.post(
            "/workflow",
            json={"name": "from a file", "input_type": "file", "input_content": reference,
                  "options": {"preferences": {"scene_count": 1}}},
        )  # fmt: skip
        assert r.status_code == 202, r.text
        workflow_id = r.json()["data"]["workflow_id"]
        deadline = time.monotonic() + 60
        while not (script := api.get(f"/workflow/{workflow_id}").json()["data"].get("script")):
            assert time.monotonic() < deadline, "the script stage did not finish"
            time.sleep(0.3)
        api.post(f"/workflow/{workflow_id}/cancel")
        assert "林风" in json.dumps(script, ensure_ascii=False)
    for reference, who in (
        (md_file["file_id"], other_api),  # another user's file
        ("http://10.0.0.1/novel.md", api),  # a URL is never fetched
        ("wfile_doesnotexist", api),
    ):
        r = who.post(
            "/workflow", json={"name": "x", "input_type": "file", "input_content": reference}
        )
        assert_error(r, 404, 1002)
