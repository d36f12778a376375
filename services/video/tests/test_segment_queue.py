"""The order a cut's segments are queued in: dearest first, so the last one a worker takes is
cheap and the others wait on it for little (a real nats-server and SQLite; no worker runs, so
the jobs stay queued where the test reads their order)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.drama_models import CameraMovement
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_core.task_launcher import TaskLauncher
from storyreel_core.task_store import TaskStore
from storyreel_core.testing import eventually, start_nats
from storyreel_video.segmented_cut import SegmentFarm, segment_task_id
from storyreel_video.segments import STILL_COST, SegmentInput, SegmentShot, encode_cost


def spec(
    key: str, move: CameraMovement, frames: int, *, ass: str = "", ass_from: int = 0
) -> SegmentInput:
    shot = SegmentShot(frame_key="f.png", frame_sha256="0" * 64, duration=8, camera_movement=move)
    return SegmentInput(
        key=key, shots=[shot], first_frame=48, start=0, frame_count=frames,
        width=64, height=64, fps=24, ass=ass, ass_from=ass_from,
    )  # fmt: skip


def test_the_cost_counts_frames_priming_and_whether_the_shot_moves() -> None:
    assert encode_cost(spec("a", "push_in", 96)) == 96
    assert encode_cost(spec("a", "static", 96)) == 96 * STILL_COST < 96
    assert encode_cost(spec("a", "static", 200)) > encode_cost(spec("a", "pan_left", 96))
    # libass starts 24 frames early for a line already on screen: those frames are drawn too.
    primed = spec("a", "push_in", 96, ass="[Script Info]", ass_from=24)
    assert encode_cost(primed) == 96 + 24


async def test_a_cuts_segments_are_queued_dearest_first(tmp_path: Path) -> None:
    nats = await start_nats(tmp_path)
    bus = await JetStreamBus(nats.url).connect()
    docs = await SqliteDocumentStore(tmp_path / "storyreel.db").connect()
    try:
        await bus.ensure_streams()
        tasks = TaskStore(docs)
        await tasks.ensure_indexes()
        farm = SegmentFarm(
            FolderObjectStore(tmp_path / "media"), TaskLauncher(tasks, bus), bus, tasks
        )
        # In play order: a still shot, a long push-in, a short pan, a long still shot.
        specs = [
            spec("seg/0.mp4", "static", 96),
            spec("seg/1.mp4", "push_in", 120),
            spec("seg/2.mp4", "pan_left", 60),
            spec("seg/3.mp4", "static", 150),
        ]

        async def done(count: int) -> None:
            pass

        ensure = asyncio.create_task(
            farm.ensure(specs, owner_id="user_a", parent_id="cut_1", on_done=done)
        )
        ids = [segment_task_id("user_a", s.key) for s in specs]

        async def queued() -> bool:
            if ensure.done():
                ensure.result()  # raises what stopped it
            found = await tasks.get_many(ids)
            return len(found) == len(ids) and all(d.get("job_seq") for d in found.values())

        await eventually(queued)
        found = await tasks.get_many(ids)
        by_queue = sorted(range(len(specs)), key=lambda i: found[ids[i]]["job_seq"])
        # Costs 96·0.5 = 48, 120, 60, 150·0.5 = 75: the long push-in, the long still, the pan.
        assert by_queue == [1, 3, 2, 0]
        ensure.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ensure
    finally:
        await bus.close()
        await docs.close()
        nats.stop()
