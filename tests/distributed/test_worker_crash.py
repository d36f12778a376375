"""A video worker killed mid-encode: the job is redelivered and the render still ends well.

JetStream delivers at least once: a worker that dies without acking loses its message to the
next worker after `ack_wait`. That is only safe if the job is idempotent — outputs keyed by the
task, no half-written object left behind, one final video however many times the job ran. This
test SIGKILLs the only video worker while ffmpeg is encoding (no graceful hand-back: the
process just vanishes), starts a fresh one where the old one listened, and checks the outcome
in the task API, in the S3 bucket and in the MP4 itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster import (
    Cluster,
    decode_all_frames,
    download,
    stage_task_id,
    start_cluster,
    submit_render,
    wait_task,
)
from e2e_client import Api
from media_probe import probe

STORY = (
    "Mara kept the lighthouse on the edge of the grey sea. One stormy night a small boat "
    'drifted toward the rocks. "Hold on!" Mara shouted into the wind. She lit the great lamp '
    "and the boat turned away from danger. At dawn a young fisherman named Tom climbed the "
    'stairs. "You saved my life," Tom said.'
)
ACK_WAIT_S = 4.0
# Big enough that the final cut takes several seconds on two cores: time to kill it mid-encode.
SIZE, FPS = "360x640", 24
# The final video's files, named after the task that cut it.
OUTPUTS = {".mp4", ".srt", ".ass", ".jpg"}


@pytest.fixture
def solo_video_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A cluster of its own with one video worker, since this test kills it."""
    cluster = start_cluster(tmp_path / "cluster", video_replicas=1, ack_wait_s=ACK_WAIT_S)
    try:
        yield cluster
    finally:
        cluster.stop()


def wait_encoding(api: Api, task_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """Poll the video stage task until ffmpeg is encoding (running, some progress made)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task: dict[str, Any] = api.get(f"/tasks/{task_id}").json()["data"]
        assert task["status"] in ("pending", "running"), f"stage ended before the kill: {task}"
        if (
            task["status"] == "running"
            and task["current_step"] == "encoding"
            and task["progress"]["percentage"] > 0
        ):
            return task
        time.sleep(0.05)
    raise AssertionError(f"{task_id} never reached encoding")


def test_sigkilled_video_worker_is_replaced_and_render_yields_one_playable_mp4(
    solo_video_cluster: Cluster, tmp_path: Path
) -> None:
    """SIGKILL mid-encode, restart: the job is redelivered (attempt 2), the render completes,
    the bucket holds exactly one final.mp4 and its siblings (no temp or partial objects), and
    every frame of the MP4 decodes."""
    cluster = solo_video_cluster
    api = Api(cluster.url)
    render_id = submit_render(
        api, STORY, scene_count=3, video={"resolution": SIZE, "fps": FPS}, music=True, seed=11
    )
    cut_id = stage_task_id(api, render_id, "final")
    victim = cluster.videos[0]
    before = wait_encoding(api, cut_id)
    victim.kill()  # SIGKILL: no hand-back, no ack, no nak
    assert before["attempts"] == 1
    killed_at = time.monotonic()

    after_kill = api.get(f"/tasks/{cut_id}").json()["data"]
    assert after_kill["status"] == "running", "the dead worker's task must not look finished"
    assert api.get(f"/tasks/{render_id}").json()["data"]["status"] == "running"

    replacement = cluster.add_video_replica(port=cluster.ports["video"])
    render = wait_task(api, render_id, timeout=180)
    assert render["status"] == "completed", f"{render['error']}\n{cluster.logs()}"
    took = time.monotonic() - killed_at

    cut = api.get(f"/tasks/{cut_id}").json()["data"]
    assert cut["status"] == "completed"
    assert cut["attempts"] >= 2, "the job was not redelivered after the crash"
    assert took < 120, f"recovery took {took:.0f}s"
    finished = {r["task_id"] for r in replacement.events("jobs.completed")}
    assert cut_id in finished, "the replacement worker did not finish the final cut"
    # The victim may have finished segments before it died, never the final cut itself.
    assert cut_id not in {e["task_id"] for e in victim.events("jobs.completed")}

    result = render["result"]
    prefix = f"dramas/{result['drama_id']}/videos/{result['video_id']}/"
    keys = cluster.s3_keys(prefix)
    assert sorted(keys) == sorted(f"{prefix}{cut_id}{suffix}" for suffix in OUTPUTS), keys
    assert cluster.s3_pending_uploads("dramas/") == []
    assert result["video_key"] == f"{prefix}{cut_id}.mp4"

    video = download(render["result"]["video_url"], tmp_path / "final.mp4")
    assert video.stat().st_size == render["result"]["file_size"]
    info = probe(video)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    width, height = (int(v) for v in SIZE.split("x"))
    assert (info.width, info.height) == (width, height)
    assert info.fps == pytest.approx(FPS, rel=0.01)
    decoded, promised = decode_all_frames(video)
    assert decoded == promised
    assert decoded == pytest.approx(render["result"]["duration"] * FPS, abs=FPS)

    # SIGTERM to the whole release: every process drains and exits 0, promptly.
    exits = cluster.terminate_storyreel(timeout=15.0)
    assert set(exits) >= {"gateway", "script", "storyboard", "asset", "tts", "workflow"}
    assert all(code == 0 for code, _s in exits.values()), exits
    assert max(seconds for _c, seconds in exits.values()) < 10.0, exits
