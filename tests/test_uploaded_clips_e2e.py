"""A video the user uploaded, played as a shot (issue 10: "the final cut must accept real clips
of any size, fps and codec … and media the user uploaded"), through the running platform.

A 480×480, 12 fps, MPEG-4 Part 2 upload is set on a storyboard (`video_asset_id`), and the
final cut (720p-shaped 180×320 at 10 fps) and the studio clip play it: conformed to the cut's
size and rate, held for the shot's duration. Another user's asset or an image is a 404 and is
never stored; replacing the upload re-encodes only that shot's segment; clearing it brings
camera motion back. Real services, gRPC, JetStream jobs and ffmpeg; frames read with PyAV.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import av
import imageio_ffmpeg
import numpy as np
from e2e_client import Api, assert_error, completed_task, download, new_drama, png
from media_probe import probe

from storyreel_cli.platform_process import PlatformProcess

SIZE, FPS = "180x320", 10
RED, GREEN = (200, 60, 40), (40, 170, 90)
SCENES = [
    {"id": "s1", "number": 1, "location": "tea house", "time": "day", "characters": [],
     "narration": "Steam rises from the cup.", "dialogue": []},
    {"id": "s2", "number": 2, "location": "harbour", "time": "night", "characters": [],
     "narration": "Boats sway at the pier.", "dialogue": []},
]  # fmt: skip


def upload_mp4(rgb: tuple[int, int, int], size: int = 480, fps: int = 12) -> bytes:
    """A real MP4 in MPEG-4 Part 2 (not H.264: any codec must do), square, 1 s, one colour."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "upload.mp4"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
                "-f", "lavfi", "-i",
                f"color=c=0x{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}:s={size}x{size}:r={fps}:d=1",
                "-c:v", "mpeg4", "-q:v", "2", "-pix_fmt", "yuv420p", "-y", str(out),
            ],
            check=True,
        )  # fmt: skip
        return out.read_bytes()


def centre_at(path: Path, seconds: float) -> tuple[int, int, int]:
    """The mean RGB of the middle 20×20 pixels of the frame shown at `seconds`."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time + 1e-6 >= seconds:
                rgb = frame.to_ndarray(format="rgb24").astype(np.float64)
                h, w = rgb.shape[:2]
                patch = rgb[h // 2 - 10 : h // 2 + 10, w // 2 - 10 : w // 2 + 10]
                mean = patch.reshape(-1, 3).mean(axis=0)
                return int(mean[0]), int(mean[1]), int(mean[2])
    raise AssertionError(f"no frame at {seconds} s")


def close_to(got: tuple[int, int, int], want: tuple[int, int, int], tol: int = 14) -> bool:
    return all(abs(g - w) <= tol for g, w in zip(got, want, strict=True))


def upload(api: Api, drama: str, name: str, data: bytes, kind: str) -> str:
    r = api.post(
        f"/dramas/{drama}/assets/upload", files={"file": (name, data)}, data={"type": kind}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def render(api: Api, drama: str, folder: Path, name: str) -> tuple[dict[str, Any], Path]:
    body = {"resolution": SIZE, "frame_rate": FPS, "subtitles": {"enabled": False}}
    task = completed_task(api, api.post(f"/dramas/{drama}/videos/render", json=body), timeout=180)
    path = folder / name
    path.write_bytes(download(api, task["result"]["video"]["url"]))
    return task["result"], path


def test_an_uploaded_video_plays_as_its_shot(
    api: Api, other_api: Api, platform: PlatformProcess, tmp_path: Path
) -> None:
    drama = new_drama(api, "Uploads")
    r = api.post(
        f"/dramas/{drama}/scripts",
        json={"title": "Harbour", "content": "Steam. Boats.", "scenes": SCENES,
              "metadata": {"language": "en"}},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    base = f"/dramas/{drama}/storyboards"
    completed_task(api, api.post(f"{base}/generate", json={"script_id": r.json()["data"]["id"]}))
    boards = api.get(base, params={"per_page": 100}).json()["data"]
    assert len(boards) == 2 and boards[0]["video_asset_id"] == ""
    shot = f"{base}/{boards[0]['id']}"

    # --- only a video asset of this drama and owner is taken; nothing else is stored -------
    red = upload(api, drama, "red.mp4", upload_mp4(RED), "video")
    picture = upload(api, drama, "still.png", png(), "image")
    elsewhere = new_drama(other_api, "Not yours")
    foreign = upload(other_api, elsewhere, "theirs.mp4", upload_mp4(GREEN), "video")
    for wrong in (foreign, picture, "asset_nope"):
        r = api.put(shot, json={"video_asset_id": wrong})
        assert_error(r, 404, 1002)
        assert r.json()["error"]["field"] == "video_asset_id", r.text
    assert api.get(shot).json()["data"]["video_asset_id"] == ""
    r = api.put(shot, json={"video_asset_id": red})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["video_asset_id"] == red
    r = api.put(shot, json={"narration": "Steam rises."})  # absent: kept
    assert r.json()["data"]["video_asset_id"] == red

    # --- the final cut plays it at the cut's size and rate, for the shot's duration ---------
    result, first = render(api, drama, tmp_path, "first.mp4")
    assert result["uploads"] == {"clips": 1, "fell_back": []}
    info = probe(first)
    assert (info.width, info.height, round(info.fps)) == (180, 320, FPS)
    assert close_to(centre_at(first, 0.5), RED), centre_at(first, 0.5)
    second_shot = boards[0]["duration"] + 0.5  # inside shot 2, past the crossfade
    assert not close_to(centre_at(first, second_shot), RED)

    # --- the studio clip of that storyboard plays it too -----------------------------------
    body = {"storyboard_ids": [boards[0]["id"]],
            "settings": {"resolution": SIZE, "frame_rate": FPS, "duration": 1.0}}  # fmt: skip
    task = completed_task(api, api.post(f"/dramas/{drama}/videos/generate", json=body))
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(download(api, task["result"]["videos"][0]["url"]))
    assert task["result"]["uploads"]["clips"] == 1
    assert close_to(centre_at(clip, 0.5), RED)

    # --- another upload re-encodes only that shot's segment --------------------------------
    green = upload(api, drama, "green.mp4", upload_mp4(GREEN, size=360, fps=25), "video")
    assert api.put(shot, json={"video_asset_id": green}).status_code == 200
    result, again = render(api, drama, tmp_path, "again.mp4")
    assert result["segments"] == {"total": 2, "encoded": 1}
    assert close_to(centre_at(again, 0.5), GREEN), centre_at(again, 0.5)

    # --- null clears it: camera motion over the frame again ---------------------------------
    r = api.put(shot, json={"video_asset_id": None})
    assert r.status_code == 200 and r.json()["data"]["video_asset_id"] == ""
    result, cleared = render(api, drama, tmp_path, "cleared.mp4")
    assert "uploads" not in result
    assert not close_to(centre_at(cleared, 0.5), GREEN)
