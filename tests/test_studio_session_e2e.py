"""Seed 000 §9.2 as one studio session through REST, from an empty drama to nothing left.

Create a drama, generate its script from a prompt, design characters and give them images,
generate storyboards, edit and reorder shots, draw one frame again, generate a clip per shot,
concatenate them, render the final cut, export it, then delete the drama and find every
document and media object of it gone (read from the SQLite file and the media folder).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_client import Api, completed_task, download, new_drama
from leftovers import drama_documents, drama_media
from media_probe import probe

from storyreel_cli.platform_process import PlatformProcess

# Two sentences, two scenes: the offline screenwriter splits a story and never pads it.
PROMPT = (
    "A lighthouse keeper named Mara saves a young fisherman named Tom during a storm. "
    "At dawn he climbs the tower to thank her."
)
SIZE, FPS = "180x320", 12


def done(api: Api, r: httpx.Response) -> dict[str, Any]:
    """The result of the task a 202 started, once completed (seed 000's `wait_for_task`)."""
    result: dict[str, Any] = completed_task(api, r, timeout=180)["result"]
    return result


def test_seed_000_studio_session(api: Api, platform: PlatformProcess, tmp_path: Path) -> None:
    # 1. The drama.
    drama = new_drama(api, "AI生成短剧项目")
    base = f"/dramas/{drama}"

    # 2. Its script, written from a prompt.
    script = done(api, api.post(f"{base}/scripts/generate", json={"prompt": PROMPT}))
    script_id = script["id"]
    assert script["scene_count"] >= 2 and script["word_count"] > 0

    # 3. Characters, each with a generated image made its default.
    for name, gender in (("Mara", "female"), ("Tom", "male")):
        r = api.post(f"{base}/characters", json={"name": name, "gender": gender})
        assert r.status_code == 201, r.text
        cid = r.json()["data"]["id"]
        images = done(api, api.post(f"{base}/characters/{cid}/generate-image", json={}))
        assert images["images"]
        character = api.get(f"{base}/characters/{cid}").json()["data"]
        assert character["default_image_id"]

    # 4. Storyboards from the script.
    result = done(api, api.post(f"{base}/storyboards/generate", json={"script_id": script_id}))
    assert result["success_count"] == result["total_count"] >= 2
    ids = [sb["id"] for sb in result["storyboards"]]

    # 5. Edit one shot, reorder the shots (last first), draw one frame again.
    first = api.get(f"{base}/storyboards/{ids[0]}").json()["data"]
    r = api.put(
        f"{base}/storyboards/{ids[0]}",
        json={"description": "Mara at the lamp, close.", "shot_type": "close_up",
              "duration": 1.5, "version": first["version"]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    order = [ids[-1], *ids[:-1]]
    r = api.put(
        f"{base}/storyboards/reorder",
        json={"order": [{"id": sid, "position": n} for n, sid in enumerate(order, 1)]},
    )
    assert r.status_code == 200, r.text
    listed = api.get(f"{base}/storyboards", params={"per_page": 100}).json()["data"]
    assert [sb["id"] for sb in listed] == order
    old_frame = download(api, listed[0]["image_url"])
    redrawn = done(
        api,
        api.post(f"{base}/storyboards/{order[0]}/regenerate-image",
                 json={"prompt": "the storm at its height", "image_style": "anime"}),
    )  # fmt: skip
    assert download(api, redrawn["storyboard"]["image_url"]) != old_frame

    # 6. Every shot speaks; one of them with a voice picked from the catalogue.
    voices = api.get("/voices").json()["data"]
    english = next(v["id"] for v in voices if v["language"].startswith("en"))
    for n, sid in enumerate(order):
        body = {"voice": english, "speed": 1.2} if n == 0 else {}
        spoken = done(api, api.post(f"{base}/storyboards/{sid}/audio", json=body))
        assert spoken["storyboard"]["audio_duration"] > 0.3
        if n == 0:
            assert spoken["storyboard"]["voice"] == english

    # 7. A clip per shot, in the new order.
    settings = {"resolution": SIZE, "frame_rate": FPS, "duration": 1.0}
    clips = done(
        api,
        api.post(f"{base}/videos/generate", json={"storyboard_ids": order, "settings": settings}),
    )
    assert clips["success_count"] == len(order)
    by_board = {v["storyboard_id"]: v for v in clips["videos"]}
    video_ids = [by_board[sid]["id"] for sid in order]

    # 8. The clips joined, then the final cut with voices, subtitles and music.
    joined = done(api, api.post(f"{base}/videos/concatenate", json={"video_ids": video_ids}))
    parts = sum(by_board[sid]["duration"] for sid in order)
    assert joined["video"]["duration"] == pytest.approx(parts, abs=0.2)
    final = done(
        api,
        api.post(f"{base}/videos/render",
                 json={"resolution": SIZE, "frame_rate": FPS, "music": {"enabled": True},
                       "subtitles": {"enabled": True, "position": "bottom"}}),
    )["video"]  # fmt: skip

    # 9. Export the final cut and check it plays.
    r = api.get(f"{base}/videos/{final['id']}/export")
    assert r.status_code == 200, r.text
    exported = tmp_path / "final.mp4"
    exported.write_bytes(r.content)
    info = probe(exported)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == (180, 320)
    assert info.duration == pytest.approx(final["duration"], abs=0.3)
    assert info.audio_rms > 0.01
    cues = download(api, final["subtitle_url"]).decode()
    assert cues.count(" --> ") >= len(order)  # at least one spoken line per shot

    # 10. Delete the drama: every document and media object of it goes, in every service.
    assert drama_documents(platform.data_dir, drama) and drama_media(platform.data_dir, drama)
    assert api.delete(base).status_code == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        left = drama_documents(platform.data_dir, drama) + drama_media(platform.data_dir, drama)
        if not left:
            break
        time.sleep(0.25)
    assert left == []
    assert api.get(f"{base}/storyboards").status_code == 404
