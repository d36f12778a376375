"""Story → MP4 through REST, the gateway, gRPC, JetStream jobs and every service's worker."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pysubs2
import pytest
from e2e_client import Api
from media_probe import probe

ZH_STORY = (
    "夜色笼罩着荒城。一位独行武者林风穿过废弃的街道，寻找失踪妹妹的下落。\n"
    "他在破旧的茶馆里遇见了老板娘苏梅。苏梅低声说：“你妹妹被带去了北边的高塔。”\n"
    "林风握紧长剑，说：“无论多远，我都会找到她。”黎明时分，他走向高塔。"
)
EN_STORY = (
    "Mara kept the lighthouse on the edge of the grey sea. One stormy night a small boat "
    'drifted toward the rocks. "Hold on!" Mara shouted into the wind. She lit the great lamp '
    "and the boat turned away from danger. At dawn a young fisherman named Tom climbed the "
    'stairs. "You saved my life," Tom said.'
)


# Bare speech tags (a plain 说/said with at most its speaker): the character's voice says who
# speaks, so they are the only words of the story that are not heard and subtitled.
BARE_TAGS = {ZH_STORY: "，说：", EN_STORY: "Tom said"}


def letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).lower()


def wait_done(api: Api, task_id: str, timeout: float = 420) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    seen_running = False
    while time.monotonic() < deadline:
        r = api.get(f"/tasks/{task_id}")
        assert r.status_code == 200, r.text
        task: dict[str, Any] = r.json()["data"]
        seen_running |= task["status"] == "running"
        if task["status"] in ("completed", "failed", "cancelled"):
            assert task["status"] == "completed", task["error"]
            assert seen_running or task["attempts"] >= 1
            return task
        time.sleep(0.5)
    raise AssertionError(f"task {task_id} did not finish")


def render(api: Api, story: str, **options: Any) -> dict[str, Any]:
    r = api.post("/pipeline/render", json={"story": story, "style": "赛博朋克", "options": options})
    assert r.status_code == 202, r.text
    body = r.json()["data"]
    assert body["task_id"].startswith("task_") and body["status"] == "pending"
    return wait_done(api, body["task_id"])


def download(url: str, dest: Path) -> Path:
    with httpx.stream("GET", url, timeout=60) as r:
        assert r.status_code == 200
        with dest.open("wb") as out:
            for chunk in r.iter_bytes():
                out.write(chunk)
    return dest


@pytest.mark.parametrize(
    ("story", "size", "fps"),
    [(ZH_STORY, "360x640", 12), (EN_STORY, "480x854", 15)],
    ids=["chinese", "english"],
)
def test_story_renders_to_a_playable_vertical_mp4(
    api: Api, tmp_path: Path, story: str, size: str, fps: int
) -> None:
    task = render(
        api, story, scene_count=3, video={"resolution": size, "fps": fps}, music=True, seed=7
    )
    result = task["result"]
    assert task["progress"]["percentage"] == 100.0
    video = download(result["video_url"], tmp_path / "final.mp4")
    info = probe(video)
    width, height = (int(v) for v in size.split("x"))
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == (width // 2 * 2, height // 2 * 2)
    assert info.fps == pytest.approx(fps, rel=0.01)
    planned = sum(shot["duration"] for shot in result["shots"])
    assert info.duration == pytest.approx(planned, rel=0.10)
    assert info.audio_rms > 0.01, "the soundtrack is silent"

    srt = download(result["subtitle_url"], tmp_path / "final.srt")
    cues = pysubs2.load(str(srt), encoding="utf-8")
    # At least one cue per spoken line (a long one is split into several), two lines at most.
    assert len(cues) >= sum(shot["lines"] for shot in result["shots"]) > 0
    assert max(cue.text.count("\\N") + 1 for cue in cues) <= 2
    assert all(cue.end > cue.start for cue in cues)
    assert max(cue.end for cue in cues) / 1000 <= info.duration + 0.5
    # Every sentence of the story is heard and subtitled once, whole and in order.
    assert story.count(BARE_TAGS[story]) == 1
    told = letters("".join(cue.plaintext for cue in cues))
    assert told == letters(story.replace(BARE_TAGS[story], ""))

    thumb = download(result["thumbnail_url"], tmp_path / "thumb.jpg")
    assert thumb.read_bytes()[:3] == b"\xff\xd8\xff"
    # The final cut animated the shots itself: the workflow's clip stage ran no task.
    workflow = api.get(f"/workflow/{result['workflow_id']}").json()["data"]
    clips = next(s for s in workflow["stages"] if s["stage"] == "video")
    assert (clips["status"], clips["task_ids"]) == ("completed", [])
    ranged = httpx.get(result["video_url"], headers={"Range": "bytes=0-99"}, timeout=30)
    assert ranged.status_code == 206 and len(ranged.content) == 100


def test_same_story_and_seed_give_the_same_shot_list(api: Api) -> None:
    tiny = {"scene_count": 2, "video": {"resolution": "180x320", "fps": 8}, "music": False}
    first = render(api, EN_STORY, seed=3, **tiny)["result"]
    second = render(api, EN_STORY, seed=3, **tiny)["result"]
    # Each render's shots are storyboards of its own drama, its lines spoken by characters of
    # that drama, its media under that drama: those ids, keys and timings differ.
    assert first["drama_id"] != second["drama_id"]
    plan = ("number", "shot_type", "camera_movement", "prompt", "narration", "duration", "lines")

    def planned(shots: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                **{k: shot[k] for k in plan},
                "dialogue": [line["text"] for line in shot["dialogue"]],
                # The words, in order (their timing follows the voices, cast per character of
                # the render's own drama).
                "spoken": [seg["text"] for seg in shot["audio_segments"]],
            }
            for shot in shots
        ]

    assert len(first["shots"]) == len(second["shots"])
    for a, b in zip(planned(first["shots"]), planned(second["shots"]), strict=True):
        for key in a:
            assert a[key] == b[key], (a["number"], key, a[key], b[key])
    first = first["shots"]
    assert [s["shot_type"] for s in first] and all(s["prompt"] for s in first)
