"""Videos through the running platform (seed 000 ch. 5): a clip per storyboard with per-shot
progress, listing, export with HTTP Range, a ZIP of several, concatenation, the final cut with
an uploaded song and subtitles, ownership, and deletion with the drama. Real services, gRPC,
JetStream jobs, ffmpeg and media, probed with PyAV.
"""

from __future__ import annotations

import io
import math
import struct
import time
import wave
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pysubs2
import pytest
from e2e_client import Api, assert_error, completed_task, download, new_drama
from leftovers import drama_documents, drama_media
from media_probe import probe

from storyreel_cli.platform_process import PlatformProcess

SIZE, FPS = "180x320", 12
SCENES = [
    {
        "id": "s1",
        "number": 1,
        "location": "tea house",
        "time": "day",
        "characters": ["Mei"],
        "narration": "Mei pours the tea.",
        "dialogue": [{"speaker": "Mei", "text": "The rain is coming!"}],
    },
    {
        "id": "s2",
        "number": 2,
        "location": "harbour",
        "time": "night",
        "characters": ["Mei"],
        "narration": "Mei walks to the harbour alone.",
        "dialogue": [],
    },
]


def song_wav(seconds: float = 2.0, rate: int = 22050) -> bytes:
    """A two-note loop: something clearly musical to lay under the voices."""
    frames = []
    for i in range(int(seconds * rate)):
        freq = 262.0 if (i * 2 // rate) % 2 == 0 else 330.0
        frames.append(struct.pack("<h", int(9000 * math.sin(2 * math.pi * freq * i / rate))))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(frames))
    return out.getvalue()


def watch(api: Api, task_id: str, timeout: float = 120) -> tuple[dict[str, Any], list[dict]]:
    """Poll a task to its end, keeping every snapshot seen on the way."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task: dict[str, Any] = api.get(f"/tasks/{task_id}").json()["data"]
        seen.append(task)
        if task["status"] in ("completed", "failed", "cancelled"):
            return task, seen
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish")


def storyboards_with_a_voice(api: Api) -> tuple[str, list[dict[str, Any]]]:
    """A drama with two storyboards (frames drawn); the first one also speaks (eSpeak)."""
    drama = new_drama(api, "Videos")
    r = api.post(
        f"/dramas/{drama}/scripts",
        json={"title": "Rain", "content": "Mei pours the tea.", "scenes": SCENES,
              "metadata": {"language": "en"}},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    script = r.json()["data"]["id"]
    r = api.post(f"/dramas/{drama}/characters", json={"name": "Mei", "gender": "female"})
    assert r.status_code == 201, r.text
    base = f"/dramas/{drama}/storyboards"
    completed_task(api, api.post(f"{base}/generate", json={"script_id": script}))
    boards = api.get(base, params={"per_page": 100}).json()["data"]
    assert len(boards) == 2 and all(b["image_url"] for b in boards)
    task = completed_task(api, api.post(f"{base}/{boards[0]['id']}/audio", json={}))
    voiced = task["result"]["storyboard"]
    assert voiced["audio_duration"] > 0.3
    boards[0] = voiced
    return drama, boards


def test_clips_exports_concatenation_and_the_final_cut(
    api: Api, other_api: Api, platform: PlatformProcess, tmp_path: Path
) -> None:
    drama, boards = storyboards_with_a_voice(api)
    videos = f"/dramas/{drama}/videos"
    ids = [b["id"] for b in boards]

    # --- a clip per storyboard, progress counted in shots --------------------------------
    settings = {"resolution": SIZE, "frame_rate": FPS, "duration": 1.5,
                "camera_movement": "auto", "transition": "fade"}  # fmt: skip
    r = api.post(f"{videos}/generate", json={"storyboard_ids": ids, "settings": settings})
    assert r.status_code == 202, r.text
    accepted = r.json()["data"]
    assert accepted["status"] == "pending" and accepted["storyboard_count"] == 2
    task, seen = watch(api, accepted["task_id"])
    assert task["status"] == "completed", task["error"]
    for snapshot in seen:
        progress = snapshot["progress"]
        assert set(progress) == {"total", "completed", "processing", "pending", "percentage"}
        assert progress["total"] == 2
        assert progress["completed"] + progress["processing"] + progress["pending"] == 2 or (
            snapshot["status"] == "completed"
        )
        if snapshot["current_item"] is not None:
            assert snapshot["current_item"]["storyboard_id"] in ids
            assert snapshot["current_item"]["status"] == "processing"
    if seen[0]["status"] == "pending":
        assert seen[0]["progress"]["pending"] == 2 and seen[0]["current_item"] is None
    assert task["progress"]["completed"] == 2 and task["progress"]["percentage"] == 100
    result = task["result"]
    assert (result["total_count"], result["success_count"], result["failed_count"]) == (2, 2, 0)
    clips = {v["storyboard_id"]: v for v in result["videos"]}
    assert set(clips) == set(ids)
    voiced, silent = clips[ids[0]], clips[ids[1]]
    # The voiced clip lasts as long as its speech needs; the silent one the asked 1.5 s.
    assert voiced["duration"] == pytest.approx(boards[0]["audio_duration"] + 0.5, abs=0.1)
    assert silent["duration"] == pytest.approx(1.5, abs=0.1)
    for clip in clips.values():
        data = download(api, clip["url"])
        assert len(data) == clip["file_size"]
        info = probe(_write(tmp_path, f"{clip['id']}.mp4", data))
        assert (info.video_codec, info.audio_codec) == ("h264", "aac")
        assert (info.width, info.height, round(info.fps)) == (180, 320, FPS)
        assert info.duration == pytest.approx(clip["duration"], abs=0.15)
        assert download(api, clip["thumbnail_url"])[:3] == b"\xff\xd8\xff"  # a JPEG
    assert probe(tmp_path / f"{voiced['id']}.mp4").audio_rms > 0.01  # it speaks

    # --- listing and one video --------------------------------------------------------------
    r = api.get(videos, params={"per_page": 1})
    assert r.status_code == 200, r.text
    assert r.json()["pagination"] == {"page": 1, "per_page": 1, "total": 2, "total_pages": 2}
    assert api.get(videos, params={"kind": "final"}).json()["data"] == []
    assert_error(api.get(videos, params={"per_page": 101}), 400, 1001)
    assert_error(api.get(videos, params={"kind": "gif"}), 400, 1001)
    r = api.get(f"{videos}/{voiced['id']}")
    assert r.status_code == 200, r.text
    one = r.json()["data"]
    assert (one["kind"], one["storyboard_id"], one["resolution"]) == ("clip", ids[0], "180x320")
    assert (one["fps"], one["file_size"]) == (FPS, voiced["file_size"])
    assert one["duration"] == pytest.approx(voiced["duration"], abs=0.01)
    assert one["thumbnail_url"] and one["url"]
    assert_error(api.get(f"{videos}/video_nope"), 404, 1002)

    # --- export: the file itself, with Range ------------------------------------------------
    whole = api.get(f"{videos}/{voiced['id']}/export")
    assert whole.status_code == 200, whole.text
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert f'filename="{voiced["id"]}.mp4"' in whole.headers["content-disposition"]
    size = len(whole.content)
    assert size == voiced["file_size"]
    part = api.get(f"{videos}/{voiced['id']}/export", headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206, part.text
    assert part.headers["content-range"] == f"bytes 100-1099/{size}"
    assert part.content == whole.content[100:1100]
    tail = api.get(f"{videos}/{voiced['id']}/export", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == whole.content[-10:]
    beyond = api.get(f"{videos}/{voiced['id']}/export", headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"

    # --- export-batch: a ZIP of valid MP4s -------------------------------------------------
    r = api.post(f"{videos}/export-batch", json={"video_ids": [voiced["id"], silent["id"]]})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == sorted(f"{v['id']}.mp4" for v in clips.values())
        for name in archive.namelist():
            info = probe(_write(tmp_path, f"zip_{name}", archive.read(name)))
            assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    missing = {"video_ids": [voiced["id"], "video_nope"]}
    assert_error(api.post(f"{videos}/export-batch", json=missing), 404, 1002)
    assert_error(api.post(f"{videos}/export-batch", json={"video_ids": []}), 400, 1001)

    # --- concatenate: one new video as long as its parts ------------------------------------
    body = {"video_ids": [voiced["id"], silent["id"]],
            "output_settings": {"format": "mp4", "resolution": "same_as_input",
                                "transition": "none"}}  # fmt: skip
    task = completed_task(api, api.post(f"{videos}/concatenate", json=body))
    joined = task["result"]["video"]
    parts = voiced["duration"] + silent["duration"]
    assert joined["duration"] == pytest.approx(parts, abs=0.1)
    info = probe(_write(tmp_path, "joined.mp4", download(api, joined["url"])))
    assert (info.video_codec, info.audio_codec, info.width, info.height) == (
        "h264",
        "aac",
        180,
        320,
    )
    assert info.duration == pytest.approx(parts, abs=0.2)
    assert info.audio_rms > 0.005
    assert api.get(f"{videos}/{joined['id']}").json()["data"]["source_ids"] == body["video_ids"]
    bad = {"video_ids": [voiced["id"]], "output_settings": {"format": "avi"}}
    assert_error(api.post(f"{videos}/concatenate", json=bad), 400, 1001)
    assert_error(api.post(f"{videos}/concatenate", json={"video_ids": ["video_x"]}), 404, 1002)

    # --- regenerating a clip replaces it ----------------------------------------------------
    again = {"storyboard_ids": [ids[1]], "settings": {**settings, "duration": 1.0,
                                                      "camera_movement": "static"}}  # fmt: skip
    task = completed_task(api, api.post(f"{videos}/generate", json=again))
    fresh = task["result"]["videos"][0]
    assert fresh["id"] == silent["id"] and fresh["duration"] == pytest.approx(1.0, abs=0.1)
    listed = api.get(videos, params={"kind": "clip"}).json()
    assert listed["pagination"]["total"] == 2
    assert httpx.get(silent["url"], timeout=30).status_code == 404  # the old file is gone

    # --- the final cut: voices, subtitles, an uploaded song ---------------------------------
    r = api.post(
        f"/dramas/{drama}/assets/upload",
        files={"file": ("song.wav", song_wav(), "audio/wav")},
        data={"type": "audio"},
    )
    assert r.status_code == 201, r.text
    song = r.json()["data"]["id"]
    render = {
        "subtitles": {"enabled": True, "position": "bottom",
                      "style": {"font_size": 16, "color": "#FFFF00", "outline": 1}},
        "music": {"enabled": True, "asset_id": song, "volume": 0.5, "fade_in": 0.5,
                  "fade_out": 0.5},
        "resolution": SIZE, "frame_rate": FPS, "transition": "crossfade",
    }  # fmt: skip
    task = completed_task(api, api.post(f"{videos}/render", json=render), timeout=180)
    final = task["result"]["video"]
    assert final["kind"] == "final"
    info = probe(_write(tmp_path, "final.mp4", download(api, final["url"])))
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height, round(info.fps)) == (180, 320, FPS)
    assert info.duration == pytest.approx(final["duration"], abs=0.2)
    assert info.audio_rms > 0.01
    srt = pysubs2.SSAFile.from_string(download(api, final["subtitle_url"]).decode())
    assert len(srt) >= 1 and all(e.end > e.start for e in srt)
    ass = pysubs2.SSAFile.from_string(download(api, final["ass_url"]).decode())
    assert ass.styles["Default"].fontsize == 16
    assert download(api, final["thumbnail_url"])[:3] == b"\xff\xd8\xff"
    got = api.get(f"{videos}/{final['id']}").json()["data"]
    assert got["source_ids"] == ids and got["subtitle_url"] and got["transition"] == "crossfade"
    assert api.get(videos, params={"kind": "final"}).json()["pagination"]["total"] == 1
    cuts = api.get("/tasks", params={"kind": "final_cut"}).json()["data"]
    assert [t["task_id"] for t in cuts] == [task["task_id"]]
    not_audio = {**render, "music": {"enabled": True, "asset_id": "asset_nope"}}
    assert_error(api.post(f"{videos}/render", json=not_audio), 404, 1002)
    bad_colour = {**render, "subtitles": {"style": {"color": "ultraviolet"}}}
    assert_error(api.post(f"{videos}/render", json=bad_colour), 400, 1001)
    bad_move = {"storyboard_ids": ids, "settings": {"camera_movement": "spin"}}
    assert_error(api.post(f"{videos}/generate", json=bad_move), 400, 1001)
    assert_error(api.post(f"{videos}/generate", json={"storyboard_ids": ["sb_nope"]}), 404, 1002)

    # --- someone else: every door is a 404 --------------------------------------------------
    for method, path, kwargs in [
        ("get", videos, {}),
        ("get", f"{videos}/{voiced['id']}", {}),
        ("get", f"{videos}/{voiced['id']}/export", {}),
        ("post", f"{videos}/export-batch", {"json": {"video_ids": [voiced["id"]]}}),
        ("post", f"{videos}/generate", {"json": {"storyboard_ids": ids}}),
        ("post", f"{videos}/concatenate", {"json": {"video_ids": [voiced["id"]]}}),
        ("post", f"{videos}/render", {"json": {}}),
    ]:
        assert_error(getattr(other_api, method)(path, **kwargs), 404, 1002)

    # --- the drama goes, and its videos with it ---------------------------------------------
    assert api.delete(f"/dramas/{drama}").status_code == 200
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        left = [d for d in drama_documents(platform.data_dir, drama) if d.startswith("videos/")]
        media = [m for m in drama_media(platform.data_dir, drama) if "/videos/" in m]
        if not left and not media:
            break
        time.sleep(0.2)
    assert (left, media) == ([], [])


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path
