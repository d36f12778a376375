"""A video worker killed in the middle of a segment: the job goes to another worker, and no
partial segment is ever published where a stitch would read it.

Worker A is the real `storyreel-video` program in its own process group, killed with SIGKILL
(it and its ffmpeg) while it encodes; worker B is the same service in this process. Both pull
from one real nats-server and share one SQLite file and one media folder.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import av

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.bus.nats_server import free_port
from storyreel_core.platform import Platform
from storyreel_core.service_runtime import RunningService
from storyreel_core.settings import Settings
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_core.task_launcher import TaskLauncher
from storyreel_core.task_store import TaskStore
from storyreel_core.testing import eventually, start_nats
from storyreel_video.segment_job import file_sha256
from storyreel_video.segmented_cut import SEGMENT_KIND
from storyreel_video.segments import SegmentInput, SegmentShot
from storyreel_video.service import build

W, H, FPS = 288, 512, 24
ACK_WAIT = 2.0
Synth = tuple[Callable[..., Path], Callable[..., Path]]


def ffmpeg_children(pid: int) -> list[int]:
    """The ffmpeg processes among `pid`'s children."""
    found = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            children = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for child in children:
            try:
                name = Path(f"/proc/{child}/comm").read_text().strip()
            except OSError:
                continue
            if name.startswith("ffmpeg"):
                found.append(int(child))
    return found


async def test_a_killed_worker_s_segment_is_redelivered_and_never_published_partial(
    tmp_path: Path, synth: Synth
) -> None:
    nats = await start_nats(tmp_path / "nats")
    bus = await JetStreamBus(nats.url).connect()
    await bus.ensure_streams()
    docs = await SqliteDocumentStore(tmp_path / "storyreel.db").connect()
    objects = FolderObjectStore(tmp_path / "media")
    tasks = TaskStore(docs)
    await tasks.ensure_indexes()
    launcher = TaskLauncher(tasks, bus)

    make_still = synth[0]
    shots = []
    for i in range(2):
        still = make_still(tmp_path / f"s{i}.png", W, H, i)
        await objects.put_file(f"frames/{i}.png", still, "image/png")
        shots.append(
            SegmentShot(
                frame_key=f"frames/{i}.png",
                frame_sha256=file_sha256(still),
                duration=10.0,
                camera_movement="push_in",
            )
        )
    # Long enough (at x264's "medium") that worker A is still encoding when killed.
    spec = SegmentInput(
        key="cache/segments/user_a/killed.mp4", shots=shots, transition="crossfade",
        transition_seconds=0.5, first_frame=0, start=0.0, frame_count=5 * FPS,
        width=W, height=H, fps=FPS, preset="medium",
    )  # fmt: skip

    env = {
        **os.environ,
        "STORYREEL_NATS_URL": nats.url,
        "STORYREEL_DATA_DIR": str(tmp_path),
        "STORYREEL_JOB_ACK_WAIT_S": str(ACK_WAIT),
        "STORYREEL_GRPC_HOST": "127.0.0.1",
        "STORYREEL_GRPC_PORT": str(free_port()),
        "STORYREEL_METRICS_PORT": str(free_port()),
    }
    worker_a = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "storyreel-video"),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # its own group: the kill takes its ffmpeg too
    )
    service: RunningService | None = None
    try:
        task = await launcher.start(
            service="video", kind=SEGMENT_KIND, owner_id="user_a",
            payload=spec.model_dump(mode="json"), task_id="task_killed_segment",
        )  # fmt: skip

        deadline = time.monotonic() + 90
        while not ffmpeg_children(worker_a.pid):
            assert worker_a.returncode is None, "worker A exited on its own"
            assert time.monotonic() < deadline, "worker A never started encoding"
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.1)  # into the encode (it lasts seconds)
        os.killpg(worker_a.pid, signal.SIGKILL)
        await asyncio.wait_for(worker_a.wait(), 10)

        killed = await tasks.get(task["_id"])
        assert killed["status"] == "running" and killed["attempts"] == 1
        assert await objects.stat(spec.key) is None  # nothing partial under the key
        assert not list((tmp_path / "media").rglob("*.mp4"))

        settings = Settings(data_dir=tmp_path, job_ack_wait_s=ACK_WAIT, video_preset="ultrafast")
        platform = Platform(settings, docs, objects, bus, tasks, launcher)
        service = RunningService(platform, build(platform), host="127.0.0.1", port=0)
        await service.start()

        async def done() -> bool:
            return (await tasks.get(task["_id"]))["status"] == "completed"

        await eventually(done, timeout=120)
        finished = await tasks.get(task["_id"])
        assert finished["attempts"] == 2 and finished["result"]["encoded"] is True
        published = tmp_path / "media" / spec.key
        with av.open(str(published)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == spec.frame_count
    finally:
        if worker_a.returncode is None:
            os.killpg(worker_a.pid, signal.SIGKILL)
            await asyncio.wait_for(worker_a.wait(), 10)
        if service is not None:
            await service.stop(grace=2.0)
        await bus.close()
        await docs.close()
        nats.stop()
