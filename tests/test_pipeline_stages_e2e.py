"""Seed 002's stage endpoints end to end: `/pipeline/storyboard` → `/frames` → `/clips`, and
`/narration`, with the seed's bodies (a short story, small sizes), through the gateway, the
workflow service and the stage services of the embedded platform. Every result's media is
downloaded through its signed URL and opened as what it claims to be (PIL, PyAV, libsndfile).
The CLI's live progress: a render followed over the WebSocket, and polling when it is not there.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import av
import soundfile
from e2e_client import Api, assert_error, completed_task, download
from PIL import Image
from typer.testing import CliRunner

from storyreel_cli.client import StoryReelClient
from storyreel_cli.live_progress import follow
from storyreel_cli.main import app
from storyreel_cli.platform_process import PlatformProcess
from storyreel_core.bus.nats_server import free_port

STORY = "一位独行武者穿越废土城市寻找真相。他在茶馆遇见老板娘苏梅。"
SEED_SCENE = {
    "scene_id": "s1",
    "prompt": "cyberpunk ruined gate, neon mist, lone warrior",
    "narration": "他踏入荒城，霓虹被尘土掩埋。",
}


def storyboard(api: Api) -> dict[str, Any]:
    """The seed's /storyboard body (short story, two scenes): the storyboard in the answer
    when it was ready within the wait, and always in the task's result."""
    r = api.post(
        "/pipeline/storyboard", json={"story": STORY, "style": "赛博朋克，冷色光影", "scenes": 2}
    )
    assert r.status_code in (200, 202), r.text
    data = r.json()["data"]
    task = api.get(f"/tasks/{data['task_id']}").json()["data"]
    if r.status_code == 202:
        task = completed_task(api, r)
    else:
        assert data["status"] == "completed" and data["storyboard"], data
        assert data["storyboard"] == task["result"]["storyboard"]
        fields = ("title", "drama_id", "script_id", "language", "characters", "notes")
        assert {f: data[f] for f in fields} == {f: task["result"][f] for f in fields}
    assert task["kind"] == "pipeline_storyboard"
    return task


def studio_edits_the_storyboard(api: Api, result: dict[str, Any]) -> None:
    """The storyboard task made a drama of the caller's: the studio API reads its script and
    a storyboard per scene back, and an edit there is an ordinary studio edit."""
    drama_id, script_id = result["drama_id"], result["script_id"]
    script = api.get(f"/dramas/{drama_id}/scripts/{script_id}").json()["data"]
    assert script["title"] == result["title"] and script["status"] == "completed"
    assert [s["id"] for s in script["scenes"]] == [s["scene_id"] for s in result["storyboard"]]
    listed = api.get(f"/dramas/{drama_id}/storyboards").json()["data"]
    assert [(b["id"], b["scene_id"], b["script_id"], b["prompt"]) for b in listed] == [
        (s["storyboard_id"], s["scene_id"], script_id, s["prompt"]) for s in result["storyboard"]
    ]
    assert {b["image_status"] for b in listed} == {"pending"}  # planned; /frames draws
    first = listed[0]
    r = api.put(
        f"/dramas/{drama_id}/storyboards/{first['id']}",
        json={"prompt": "neon rain over the gate", "version": first["version"]},
    )
    assert r.status_code == 200, r.text
    edited = api.get(f"/dramas/{drama_id}/storyboards/{first['id']}").json()["data"]
    assert edited["prompt"] == "neon rain over the gate"
    assert edited["version"] == first["version"] + 1
    stale = {"prompt": "x", "version": first["version"]}
    assert_error(api.put(f"/dramas/{drama_id}/storyboards/{first['id']}", json=stale), 409, 1003)


def clip_stream(path: Path) -> tuple[str, int, int, int]:
    """Codec, width, height and decoded frame count of an MP4's video stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return (
            stream.codec_context.name,
            stream.codec_context.width,
            stream.codec_context.height,
            frames,
        )


def test_storyboard_frames_clips_with_the_seed_bodies(api: Api, tmp_path: Path) -> None:
    task = storyboard(api)
    scenes = task["result"]["storyboard"]
    assert [s["scene_id"] for s in scenes] == ["scene_001", "scene_002"]
    assert scenes[1]["title"] == "茶馆" and "苏梅" in scenes[1]["narration"]
    assert all(s["prompt"] and s["bgm"] for s in scenes)
    assert task["progress"]["percentage"] == 100
    studio_edits_the_storyboard(api, task["result"])
    # The same story again: a drama of its own, its name taken, so the task id's tail added.
    again = storyboard(api)
    first, second = (
        api.get(f"/dramas/{t['result']['drama_id']}").json()["data"] for t in (task, again)
    )
    assert first["name"] == STORY and second["name"] == f"{STORY} ({again['task_id'][-8:]})"

    # /frames: the seed's storyboard items (scene_id, prompt, narration) and image_style.
    body = {
        "storyboard": [{k: s[k] for k in ("scene_id", "prompt", "narration")} for s in scenes],
        "image_style": {"resolution": "96x64", "num_steps": 4, "cfg_scale": 1.5, "seed": 123},
    }
    frames = completed_task(api, api.post("/pipeline/frames", json=body))["result"]["frames"]
    assert [f["scene_id"] for f in frames] == ["scene_001", "scene_002"]
    for frame in frames:
        image = Image.open(io.BytesIO(download(api, frame["frame_url"])))
        assert image.format == "PNG" and image.size == (96, 64)

    # /clips: the frames with a duration and transition each, the seed's video settings.
    body = {
        "frames": [
            {"scene_id": f["scene_id"], "frame": f["frame_key"], "duration": 1.0,
             "transition": "crossfade"}
            for f in frames
        ],
        "video": {"fps": 12, "resolution": "64x96", "transition_duration": 0.25},
    }  # fmt: skip
    result = completed_task(api, api.post("/pipeline/clips", json=body))["result"]
    clips = result["clips"]
    assert [c["scene_id"] for c in clips] == ["scene_001", "scene_002"]
    total = 0
    for n, clip in enumerate(clips):
        path = tmp_path / f"clip{n}.mp4"
        path.write_bytes(download(api, clip["clip_url"]))
        codec, width, height, count = clip_stream(path)
        assert (codec, width, height) == ("h264", 64, 96)
        assert count == round(clip["duration"] * 12)
        total += count
    # The clips are the joined video's pieces: 2 s less one 0.25 s crossfade, at 12 fps.
    assert total == 21
    joined = tmp_path / "joined.mp4"
    joined.write_bytes(download(api, result["video_url"]))
    assert clip_stream(joined)[1:] == (64, 96, 21)
    with av.open(str(joined)) as container:
        assert container.streams.audio  # the cut's (silent) soundtrack


def test_narration_speaks_each_scene_in_a_known_voice(api: Api) -> None:
    line = {"scene_id": "s1", "text": SEED_SCENE["narration"]}
    body = {"lines": [line], "voice": "cosyvoice-mini", "speed": 1.0, "format": "wav"}
    r = api.post("/pipeline/narration", json=body)
    assert_error(r, 400, 1001)
    assert r.json()["error"]["field"] == "voice" and "narrator-zh" in r.json()["message"]

    body["voice"] = "narrator-zh"
    body["lines"].append({"scene_id": "s2", "text": "Rain fell on the tower."})
    result = completed_task(api, api.post("/pipeline/narration", json=body))["result"]
    assert result["voice"] == "narrator-zh" and result["format"] == "wav"
    assert [a["scene_id"] for a in result["audios"]] == ["s1", "s2"]
    for audio in result["audios"]:
        samples, rate = soundfile.read(io.BytesIO(download(api, audio["audio_url"])))
        seconds = len(samples) / rate
        assert 0.5 < seconds <= audio["duration"] + 0.01, (seconds, audio["duration"])
        assert abs(samples).max() > 0.05  # spoken, not silence


def test_stage_endpoints_refuse_bad_input_at_the_edge(api: Api, other_api: Api) -> None:
    def refused(path: str, body: dict[str, Any], status: int = 400, code: int = 1001) -> str:
        r = api.post(path, json=body)
        assert_error(r, status, code)
        return str(r.json()["error"]["field"])

    for scenes in (0, 31):
        refused("/pipeline/storyboard", {"story": STORY, "scenes": scenes})
    refused("/pipeline/storyboard", {"story": STORY, "style": "s" * 101})
    refused("/pipeline/storyboard", {"story": "   "})
    refused("/pipeline/frames", {"storyboard": []})
    refused("/pipeline/frames", {"storyboard": [SEED_SCENE] * 31})
    assert refused("/pipeline/frames", {"storyboard": [SEED_SCENE, SEED_SCENE]}).endswith(
        "scene_id"
    )
    refused("/pipeline/frames", {"storyboard": [{**SEED_SCENE, "scene_id": "../x"}]})
    bad_size = {"storyboard": [SEED_SCENE], "image_style": {"resolution": "8x8"}}
    assert refused("/pipeline/frames", bad_size) == "image_style.resolution"
    refused("/pipeline/narration", {"lines": [{"scene_id": "s1", "text": "hi"}], "format": "mp3"})
    refused("/pipeline/narration", {"lines": [{"scene_id": "s1", "text": "hi"}], "speed": 3})

    # Clips: only the caller's own frames; anything else is not found.
    r = other_api.post(
        "/pipeline/frames",
        json={"storyboard": [SEED_SCENE], "image_style": {"resolution": "64x64"}},
    )
    theirs = completed_task(other_api, r)["result"]["frames"][0]["frame_key"]
    for key in (theirs, "renders/task_0/frames/s1.png", "/data/frames/s1.png"):
        assert refused("/pipeline/clips", {"frames": [{"scene_id": "s1", "frame": key}]},
                       404, 1002) == "frames.0.frame"  # fmt: skip
    mixed = {
        "frames": [
            {"scene_id": "s1", "frame": theirs, "transition": "fade"},
            {"scene_id": "s2", "frame": theirs, "transition": "crossfade"},
        ]
    }
    refused("/pipeline/clips", mixed)
    refused("/pipeline/clips", {"frames": [{"scene_id": "s1", "frame": theirs, "duration": 0}]})


RENDER_STEPS = [
    "writing screenplay",
    "designing characters",
    "planning storyboard",
    "drawing frames",
    "speaking lines",
    "animating shots",
    "composing video",
]


def test_cli_render_shows_progress_pushed_over_the_websocket(
    api: Api, platform: PlatformProcess, tmp_path: Path
) -> None:
    story = tmp_path / "story.txt"
    story.write_text("The lighthouse keeper saw a ship in the storm.", encoding="utf-8")
    out = tmp_path / "drama.mp4"
    args = ["render", str(story), "-o", str(out), "--scenes", "1", "--resolution", "64x112",
            "--fps", "6", "--no-music", "--url", platform.url]  # fmt: skip
    result = CliRunner().invoke(app, args, env={"STORYREEL_TOKEN": api.token, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "polling" not in result.output, result.output
    pushed = re.search(r"progress: pushed over WebSocket \((\d+) updates\)", result.output)
    assert pushed and int(pushed[1]) >= 2, result.output
    # The stages it was told about, in the order the render runs them: at least the last two.
    steps = [s for s in re.findall(r"^step (.+)$", result.output, re.M) if s in RENDER_STEPS]
    assert steps == sorted(steps, key=RENDER_STEPS.index), steps
    assert len(steps) >= 2 and steps[-1] == "composing video", result.output
    assert out.stat().st_size > 0 and out.with_suffix(".srt").exists()


def test_cli_progress_falls_back_to_polling_when_the_socket_is_unreachable(
    api: Api, platform: PlatformProcess
) -> None:
    task_id = storyboard(api)["task_id"]
    notices: list[str] = []
    seen: list[dict[str, Any]] = []
    dead = f"ws://127.0.0.1:{free_port()}/api/v1/ws?token={api.token}"
    with StoryReelClient(platform.url, token=api.token) as client:
        task, how = follow(client, task_id, seen.append, notice=notices.append, url=dead)
        assert (how, task["status"]) == ("polling", "completed")
        assert "polling instead" in notices[0] and seen[-1]["status"] == "completed"
        # The same task over the live socket: its terminal state, then the record.
        task, how = follow(client, task_id, seen.append, notice=notices.append)
        assert (how, task["status"], len(notices)) == ("websocket", "completed", 1)
