"""A render through the platform deployed as separate processes on MongoDB, S3 and NATS.

The embedded end-to-end tests run every service in one process over SQLite and a folder; this
one proves the same render works when the gateway and the six services share nothing but the
network: configuration from `STORYREEL_*` only, gRPC between processes, jobs on JetStream,
documents in a MongoDB-protocol server and media in S3, downloaded through the gateway's
signed URL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster import Cluster, decode_all_frames, download, stage_task_id, submit_render, wait_task
from e2e_client import Api
from media_probe import probe

STORY = (
    "Mara kept the lighthouse on the edge of the grey sea. One stormy night a small boat "
    'drifted toward the rocks. "Hold on!" Mara shouted into the wind. At dawn a young '
    'fisherman named Tom climbed the stairs. "You saved my life," Tom said.'
)


def test_story_renders_to_playable_mp4_across_separate_processes(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Register and render over REST; every stage runs in another process than the gateway,
    and the MP4 comes back from S3 through the gateway's signed media URL."""
    api = Api(cluster.url)  # registers and logs in: users and tokens live in MongoDB
    task_id = submit_render(
        api, STORY, scene_count=2, video={"resolution": "180x320", "fps": 8}, music=True, seed=5
    )
    task = wait_task(api, task_id, timeout=180)
    assert task["status"] == "completed", f"{task['error']}\n{cluster.logs()}"
    assert task["progress"]["percentage"] == 100.0
    result = task["result"]
    assert result["video_url"].startswith(f"{cluster.url}/media/")

    video = download(result["video_url"], tmp_path / "final.mp4")
    assert video.stat().st_size == result["file_size"] > 1000
    info = probe(video)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == (180, 320)
    assert info.fps == pytest.approx(8, rel=0.01)
    assert info.duration == pytest.approx(sum(s["duration"] for s in result["shots"]), rel=0.1)
    assert info.audio_rms > 0.01, "the soundtrack is silent"
    decoded, promised = decode_all_frames(video)
    assert decoded == promised > 0

    # The media really is in the S3 bucket: the render's drama's final video, named after the
    # workflow's final-stage task.
    cut_id = stage_task_id(api, task_id, "final")
    prefix = f"dramas/{result['drama_id']}/videos/{result['video_id']}/"
    assert result["video_key"] == f"{prefix}{cut_id}.mp4"
    assert result["video_key"] in cluster.s3_keys(prefix)
