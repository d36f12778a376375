"""Seed 003's material-to-video task through the running platform (issue 12).

Two distinctly coloured PNGs, a one-colour MP4 (made with ffmpeg) and a Markdown file are
uploaded as attachments; `POST /tasks/create-video-task` turns them into two videos, and every
video must show each material: some frame's centre has the mean colour of each image and of
the clip. The videos differ (shot order, transition, music) and say how. Around it: per-video
status, media items, title edits, stats, another user's task (404), the form's 4xx answers,
SSRF probes answered 400 with nothing fetched from a loopback server that logs requests, the
409 for cancelling a cancelled task, retry, and DELETE. Real services, gRPC, JetStream, ffmpeg.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import av
import imageio_ffmpeg
import numpy as np
import pytest
from e2e_client import Api, assert_error, download, png

RED, BLUE, GREEN = (200, 60, 40), (40, 80, 200), (40, 170, 90)
MARKDOWN = """# Harbour lights

## The tea house
Steam rises from the cup while the old man waits.

## The pier
Boats sway at the pier under the evening sky.

## The lighthouse
The lamp turns and the harbour falls quiet.
"""


def clip_mp4(rgb: tuple[int, int, int]) -> bytes:
    """A real one-second, one-colour MP4 (H.264 is not needed: MPEG-4 Part 2)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
                "-f", "lavfi", "-i",
                f"color=c=0x{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}:s=240x240:r=12:d=1",
                "-c:v", "mpeg4", "-q:v", "2", "-pix_fmt", "yuv420p", "-y", str(out),
            ],
            check=True,
        )  # fmt: skip
        return out.read_bytes()


def centre_colours(path: Path) -> list[tuple[int, int, int]]:
    """The mean RGB of the middle 16×16 pixels of every frame."""
    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            rgb = frame.to_ndarray(format="rgb24").astype(np.float64)
            h, w = rgb.shape[:2]
            mean = rgb[h // 2 - 8 : h // 2 + 8, w // 2 - 8 : w // 2 + 8].reshape(-1, 3).mean(0)
            out.append((int(mean[0]), int(mean[1]), int(mean[2])))
    return out


def shows(colours: list[tuple[int, int, int]], want: tuple[int, int, int], tol: int = 16) -> bool:
    return any(all(abs(g - w) <= tol for g, w in zip(c, want, strict=True)) for c in colours)


class _Logged(BaseHTTPRequestHandler):
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        body = png(colour=RED)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def loopback() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Logged)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield int(httpd.server_address[1])
    httpd.shutdown()


def attach(api: Api, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    r = api.post("/tasks/attachments/upload", files=[("files", f) for f in files])
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def wait_status(api: Api, task_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.get(f"/tasks/{task_id}/status")
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()["data"]
        if data["status"] in ("completed", "failed", "cancelled"):
            return data
        time.sleep(0.3)
    raise AssertionError(f"task {task_id} did not finish")


def test_materials_become_videos_that_show_them(
    api: Api, other_api: Api, tmp_path: Path, loopback: int
) -> None:
    up = attach(
        api,
        [("story.md", MARKDOWN.encode()), ("red.png", png((160, 240), RED)),
         ("blue.png", png((300, 200), BLUE)), ("green.mp4", clip_mp4(GREEN)),
         ("noise.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ")],
    )  # fmt: skip
    items = up["items"]
    assert [i["success"] for i in items] == [True, True, True, True, False]
    assert [i["media_type"] for i in items[:4]] == ["markdown", "image", "image", "video"]
    assert up["stats"]["image_count"] == 2 and up["warnings"]
    # Both forms are accepted: the signed link and the attachment reference.
    urls = [items[0]["ref"], items[1]["url"], items[2]["ref"], items[3]["url"]]

    form = {"title": "Harbour", "description": "three places", "mode": "multi_scene",
            "multi_video_count": "2", "resolution": "180x320"}  # fmt: skip
    r = api.post("/tasks/create-video-task", data={**form, "media_urls": urls})
    assert r.status_code == 202, r.text
    created = r.json()["data"]
    task_id = created["id"]
    assert created["multi_video_count"] == 2 and created["task_type"] == "TEXT_TO_VIDEO"
    assert (created["markdown_count"], created["image_count"], created["video_count"]) == (1, 2, 1)

    # --- another user sees nothing of it -------------------------------------------------
    for path in (f"/tasks/{task_id}/status", f"/tasks/{task_id}/media-items"):
        assert_error(other_api.get(path), 404, 1002)
    assert_error(other_api.put(f"/tasks/{task_id}", json={"title": "x"}), 404, 1002)
    assert_error(other_api.delete(f"/tasks/{task_id}"), 404, 1002)
    # Nor can they use this user's attachments.
    r = other_api.post("/tasks/create-video-task", data={**form, "media_urls": [urls[1]]})
    assert_error(r, 404, 1002)

    # --- media items, title edit ---------------------------------------------------------
    media = api.get(f"/tasks/{task_id}/media-items").json()["data"]
    assert [m["media_type"] for m in media] == ["markdown", "image", "image", "video"]
    assert media[1]["cloud_url"] and media[0]["cloud_url"] is None
    r = api.put(f"/tasks/{task_id}", json={"title": "Harbour at night"})
    assert r.status_code == 200 and r.json()["data"]["title"] == "Harbour at night", r.text
    assert r.json()["data"]["description"] == "three places"

    status = wait_status(api, task_id)
    assert status["status"] == "completed", (status["error"], status["current_stage"])
    info = status["multi_video_info"]
    assert info["total_videos"] == 2 and info["completed_count"] == 2, info
    assert status["unused_materials"] == []
    placed = {m["index"]: m["storyboard_ids"] for m in status["materials"]}
    assert set(placed) == {1, 2, 3} and all(placed.values())

    variations = [v["variation"] for v in info["completed_videos"]]
    assert variations[0] != variations[1]
    assert variations[0]["transition"] != variations[1]["transition"]
    assert sorted(variations[0]["shot_order"]) == sorted(variations[1]["shot_order"])

    # --- each video shows both images and the clip ----------------------------------------
    for n, video in enumerate(info["completed_videos"]):
        path = tmp_path / f"video{n}.mp4"
        path.write_bytes(download(api, video["video_url"]))
        colours = centre_colours(path)
        for name, colour in (("red image", RED), ("blue image", BLUE), ("green clip", GREEN)):
            assert shows(colours, colour), (n, name, sorted(set(colours))[:40])

    # The studio route the job used: an image asset becomes a frame, a video asset is no frame.
    drama, by_index = status["drama_id"], {m["index"]: m for m in status["materials"]}
    shot = f"/dramas/{drama}/storyboards/{by_index[1]['storyboard_ids'][0]}"
    r = api.put(shot, json={"image_asset_id": by_index[3]["asset_id"]})
    assert_error(r, 404, 1002)
    r = api.put(shot, json={"image_asset_id": "asset_nope"})
    assert_error(r, 404, 1002)
    assert r.json()["error"]["field"] == "image_asset_id", r.text
    r = api.put(shot, json={"image_asset_id": by_index[2]["asset_id"]})
    assert r.status_code == 200 and r.json()["data"]["image_status"] == "completed", r.text

    stats = api.get("/tasks/stats").json()["data"]
    assert stats["completed_tasks"] >= 1 and 0 < stats["success_rate"] <= 100
    # The stats count the tasks this user started, not the stage tasks the video task started
    # (listed too, each with its parent_id): those are `stage_tasks`.
    listed = api.get("/tasks", params={"per_page": 100}).json()
    own = [t for t in listed["data"] if not t["parent_id"]]
    assert any(t["task_id"] == task_id for t in own)
    assert stats["total_tasks"] == len(own), (stats, own)
    assert stats["stage_tasks"] == listed["pagination"]["total"] - len(own) >= 1, stats

    # --- delete: gone for good -------------------------------------------------------------
    r = api.delete(f"/tasks/{task_id}")
    assert r.status_code == 200, r.text
    assert_error(api.get(f"/tasks/{task_id}/status"), 404, 1002)
    assert_error(api.get(f"/tasks/{task_id}"), 404, 1002)


def test_refusals_fetch_nothing(api: Api, loopback: int) -> None:
    up = attach(api, [("a.png", png(colour=BLUE))])
    ref = up["items"][0]["ref"]
    form = {"title": "t", "media_urls": [ref]}

    for bad, field in (
        ({"mode": "one_scene"}, "mode"),
        ({"multi_video_count": "6"}, "multi_video_count"),
        ({"multi_video_count": "0"}, "multi_video_count"),
        ({"media_urls": [ref] * 51}, "media_urls"),
        ({"media_meta": "[1]"}, "media_meta"),
    ):
        r = api.post("/tasks/create-video-task", data={**form, **bad})
        assert_error(r, 400, 1001)
        assert field in r.text
    r = api.post("/tasks/create-video-task", data={**form, "persona_id": "persona_nope"})
    assert_error(r, 404, 1002)

    # SSRF probes: the attachment comes first and the loopback server logs every request;
    # one refused URL means nothing is fetched at all.
    _Logged.seen.clear()
    for url in (
        f"http://127.0.0.1:{loopback}/a.png",
        f"http://localhost:{loopback}/a.png",
        "http://10.0.0.7/a.png",
        "http://169.254.169.254/latest/meta-data/",
        f"http://[::1]:{loopback}/a.png",
        f"http://[::ffff:127.0.0.1]:{loopback}/a.png",
        "file:///etc/passwd",
    ):
        r = api.post("/tasks/create-video-task", data={**form, "media_urls": [ref, url]})
        assert_error(r, 400, 1001)
    assert _Logged.seen == []

    # --- cancel twice → 409, retry a cancelled one, delete a running one --------------------
    r = api.post("/tasks/create-video-task", data={**form, "multi_video_count": "1",
                                                     "resolution": "180x320"})  # fmt: skip
    assert r.status_code == 202, r.text
    task_id = r.json()["data"]["id"]
    assert api.post(f"/tasks/{task_id}/cancel").status_code == 200
    assert_error(api.post(f"/tasks/{task_id}/cancel"), 409, 1003)
    r = api.post(f"/tasks/{task_id}/retry")
    assert r.status_code == 200 and r.json()["data"]["status"] == "pending", r.text
    r = api.delete(f"/tasks/{task_id}")
    assert r.status_code == 200, r.text
    assert_error(api.get(f"/tasks/{task_id}"), 404, 1002)
    assert_error(api.delete(f"/tasks/{task_id}"), 404, 1002)
