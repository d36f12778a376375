"""Dynamic subtitles (issue 12, seed 003's `/dynamic-subtitles/*`) through the running platform.

An uploaded MP4 and an SRT go through `POST /dynamic-subtitles/process` with the karaoke
template; the task's video is decoded (PyAV) and its frames looked at: no subtitle before the
cue, and each word turns to the highlight colour at its spoken time and not before (the
yellow spreads left to right word by word). The finished task is then processed again by
`task_id`, its own subtitles reused. Templates list with preview PNGs drawn by libass; bad
input is a 4xx. Real services, gRPC, a JetStream job, ffmpeg + libass.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

import av
import imageio_ffmpeg
import numpy as np
import numpy.typing as npt
from e2e_client import Api, assert_error, completed_task, download, new_drama

from storyreel_core.subtitle_templates import TEMPLATE_IDS

W, H, SECONDS = 240, 426, 2
# Spoken weights 1 : 5/3 : 4/3 (letters ÷ 3) share 0.4–1.6 s: red 0.4–0.7, green 0.7–1.2,
# blue 1.2–1.6.
SRT = "1\n00:00:00,400 --> 00:00:01,600\nred green blue\n"
SAMPLES = {"before": 0.2, "red": 0.6, "green": 1.05, "blue": 1.5}


def grey_mp4() -> bytes:
    """A real 2 s H.264 + AAC MP4 of a mid-grey picture with a tone, 240x426 at 25 fps."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
                "-f", "lavfi", "-i", f"color=c=0x505050:s={W}x{H}:r=25:d={SECONDS}",
                "-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-shortest", "-y", str(out),
            ],
            check=True,
        )  # fmt: skip
        return out.read_bytes()


def frames_at(path: Path, times: dict[str, float]) -> dict[str, npt.NDArray[np.int16]]:
    """The RGB frame shown at each time."""
    wanted = sorted(times.items(), key=lambda kv: kv[1])
    out: dict[str, npt.NDArray[np.int16]] = {}
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            while wanted and frame.time is not None and frame.time + 1e-6 >= wanted[0][1]:
                out[wanted.pop(0)[0]] = frame.to_ndarray(format="rgb24").astype(np.int16)
    assert not wanted, f"no frame at {wanted}"
    return out


def yellow(rgb: npt.NDArray[np.int16]) -> npt.NDArray[np.bool_]:
    """The default highlight #FFD400 after H.264: red and green high, blue low."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (r > 180) & (g > 150) & (b < 110)


def white(rgb: npt.NDArray[np.int16]) -> npt.NDArray[np.bool_]:
    return (rgb > 200).all(axis=-1)


def upload_clip(api: Api, drama: str) -> str:
    r = api.post(
        f"/dramas/{drama}/assets/upload",
        files={"file": ("clip.mp4", grey_mp4())},
        data={"type": "video"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def process(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    return completed_task(api, api.post("/dynamic-subtitles/process", json=body), timeout=120)


def test_karaoke_highlights_each_word_when_it_is_spoken(api: Api, tmp_path: Path) -> None:
    drama = new_drama(api, "Karaoke")
    asset = upload_clip(api, drama)
    task = process(
        api,
        {"drama_id": drama, "video_asset_id": asset, "srt": SRT, "template": "karaoke"},
    )
    result = task["result"]
    assert result["template"] == "karaoke"
    assert result["source"] == {"drama_id": drama, "video_asset_id": asset}
    assert result["processing_info"]["segments_processed"] == 1
    assert result["processing_info"]["words_generated"] == 3
    assert (result["width"], result["height"]) == (W, H)
    assert abs(result["duration"] - SECONDS) < 0.1
    ass = download(api, result["ass_url"]).decode()
    assert "{\\k" in ass and "red" in ass
    video = tmp_path / "karaoke.mp4"
    video.write_bytes(download(api, result["video_url"]))
    with av.open(str(video)) as container:
        assert container.streams.audio, "the source's sound is kept"
    shots = frames_at(video, SAMPLES)
    # Nothing before the cue.
    assert not white(shots["before"]).any() and not yellow(shots["before"]).any()
    # The line's horizontal extent, from the frame where all of it is drawn.
    lit = yellow(shots["blue"]) | white(shots["blue"])
    cols = np.flatnonzero(lit.any(axis=0))
    left, right = cols[0], cols[-1]
    third = (right - left) / 3

    def yellow_cols(name: str) -> npt.NDArray[np.intp]:
        return np.flatnonzero(yellow(shots[name]).any(axis=0))

    red, green, blue = yellow_cols("red"), yellow_cols("green"), yellow_cols("blue")
    assert red.size, "the first word is highlighted while it is spoken"
    assert red.max() < left + third, "only the first word is, not the ones still to come"
    assert green.max() > red.max() + 5 and green.max() < right - third / 2
    assert blue.max() > right - third / 2, "the last word at its time"
    # White (not yet spoken) text remains right of the highlight until the last word.
    assert white(shots["red"])[:, int(left + 2 * third) :].any()

    # The task's own video and subtitles again, with another template.
    again = process(api, {"task_id": task["task_id"], "template": "boxed"})["result"]
    assert again["source"] == {"task_id": task["task_id"]}
    assert again["original_video_url"] and again["processing_info"]["segments_processed"] == 1
    assert "Boxed" in download(api, again["ass_url"]).decode()


def test_templates_list_previews_and_config(api: Api) -> None:
    r = api.get("/dynamic-subtitles/templates")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [t["id"] for t in data["templates"]] == list(TEMPLATE_IDS)
    assert data["total"] == len(TEMPLATE_IDS) >= 7
    for template in data["templates"]:
        assert template["name"] and template["description"]
        assert {p["name"] for p in template["parameters"]} >= {"font_size", "color", "position"}
        image = download(api, template["preview_url"])
        assert image.startswith(b"\x89PNG"), template["id"]
    karaoke = next(t for t in data["templates"] if t["id"] == "karaoke")
    assert "highlight_color" in {p["name"] for p in karaoke["parameters"]}
    config = api.get("/dynamic-subtitles/config").json()["data"]["config"]
    assert config["enabled"] is True and config["engine"] == "libass"
    assert config["supported_formats"] == ["srt"]
    assert config["available_templates"] == len(TEMPLATE_IDS)


def test_bad_requests_are_4xx(api: Api, other_api: Api) -> None:
    drama = new_drama(api, "Subtitle errors")
    asset = upload_clip(api, drama)
    base = {"drama_id": drama, "video_asset_id": asset, "srt": SRT, "template": "karaoke"}

    r = api.post("/dynamic-subtitles/process", json={**base, "template": "sparkles"})
    assert_error(r, 400, 1001)
    assert "karaoke" in r.json()["message"] and "typewriter" in r.json()["message"]
    r = api.post("/dynamic-subtitles/process", json={**base, "srt": "this is not srt"})
    assert_error(r, 400, 1001)
    assert r.json()["error"]["field"] == "srt"
    backwards = "1\n00:00:03,000 --> 00:00:01,000\nbackwards\n"
    assert_error(api.post("/dynamic-subtitles/process", json={**base, "srt": backwards}), 400, 1001)
    r = api.post("/dynamic-subtitles/process", json={**base, "srt": ""})
    assert_error(r, 400, 1001)  # an upload has no subtitles of its own
    assert r.json()["error"]["field"] == "srt"
    r = api.post("/dynamic-subtitles/process", json={**base, "task_id": "task_x"})
    assert_error(r, 400, 1001)  # two videos named
    # Someone else's asset, drama, task; an unknown video id.
    other_drama = new_drama(other_api, "Not yours")
    theirs = upload_clip(other_api, other_drama)
    foreign = {**base, "drama_id": other_drama, "video_asset_id": theirs}
    assert_error(api.post("/dynamic-subtitles/process", json=foreign), 404, 1002)
    mine_with_their_asset = {**base, "video_asset_id": theirs}
    assert_error(api.post("/dynamic-subtitles/process", json=mine_with_their_asset), 404, 1002)
    r = api.post("/dynamic-subtitles/process", json={**base, "video_asset_id": None,
                                                     "video_id": "vid_nope"})  # fmt: skip
    assert_error(r, 404, 1002)
    r = api.post(
        "/dynamic-subtitles/process",
        json={"task_id": "task_0123456789abcdef", "template": "karaoke", "srt": SRT},
    )
    assert_error(r, 404, 1002)
    # The final cut's template is checked before any task, naming the templates.
    r = api.post(
        "/pipeline/render", json={"story": "A cat.", "options": {"subtitle_template": "x"}}
    )
    assert_error(r, 400, 1001)
    assert "karaoke" in r.json()["message"]
    r = api.post(f"/dramas/{drama}/videos/render", json={"subtitle_template": "x"})
    assert_error(r, 400, 1001)
    assert "pop_in" in r.json()["message"]
