"""Does adding a video replica raise render throughput? Videos per minute with 1, then 2.

Starts the platform as separate processes (gateway, six services, nats-server, nx-27017 for
MongoDB, SeaweedFS for S3 — `tests/cluster.py`, the same helper the distributed tests use),
renders a fixed batch of stories concurrently through REST with one video replica, adds a
second replica and renders the same batch again. Prints videos per minute for each and the
ratio, with the core count: every process shares this machine's cores, so the ratio says as
much about the machine as about the platform (on two cores the video encode is already
competing with frame drawing, speech and the other replica for the same CPUs).

    .venv/bin/python bench/scale.py [--count 6] [--resolution 360x640] [--fps 12] [--scenes 3]
                                    [--concurrency 2] [--rounds 2]

Each setting runs its batch `--rounds` times and keeps the fastest; every process is warmed by a
render first, so neither setting pays for imports, fonts or jieba's dictionary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from cluster import Cluster, submit_render
from e2e_client import Api

STORIES = [
    "Mara kept the lighthouse on the edge of the grey sea. One stormy night a small boat "
    'drifted toward the rocks. "Hold on!" Mara shouted into the wind. At dawn a young '
    'fisherman named Tom climbed the stairs. "You saved my life," Tom said.',
    "夜色笼罩着荒城。一位独行武者林风穿过废弃的街道，寻找失踪妹妹的下落。"
    "他在破旧的茶馆里遇见了老板娘苏梅。苏梅低声说：“你妹妹被带去了北边的高塔。”"
    "林风握紧长剑，说：“无论多远，我都会找到她。”黎明时分，他走向高塔。",
    "The old clockmaker fixed the tower clock every winter. One morning the hands stopped. "
    '"Time waits for no one," he told the child who watched him climb. The child laughed '
    "and handed him a rusty key. The clock began to tick again.",
    "Lena found a map in her grandmother's attic. It showed an island that was on no chart. "
    '"We sail at dawn," said her brother Omar. The wind carried them past the reef, and '
    "at sunset they saw a green hill rise out of the sea.",
    "雨夜，侦探陈默站在老宅门口。管家打开门，说：“老爷在书房等您。”"
    "书房里只有一盏灯和一封没有署名的信。陈默读完信，望向窗外的灯塔。",
    "A robot named Pip worked alone in the orchard. Every apple it picked went into a red "
    'basket. One day a girl climbed the fence. "Can I help?" she asked. Pip handed her '
    "the basket, and together they finished before the rain.",
]


def parse_time(value: str | None) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else 0.0


def run_batch(api: Api, count: int, options: dict[str, Any]) -> tuple[float, list[str]]:
    """Submit `count` renders at once; seconds from the first POST to the last completion."""
    start = time.monotonic()
    ids = [submit_render(api, STORIES[i % len(STORIES)], seed=i, **options) for i in range(count)]
    pending = set(ids)
    while pending:
        for task_id in list(pending):
            task = api.get(f"/tasks/{task_id}").json()["data"]
            if task["status"] == "completed":
                pending.discard(task_id)
            elif task["status"] in ("failed", "cancelled"):
                raise SystemExit(f"render {task_id} {task['status']}: {task['error']}")
        time.sleep(0.25)
    return time.monotonic() - start, ids


def best_of(rounds: int, batch: Callable[[], tuple[float, list[str]]]) -> tuple[float, list[str]]:
    """The fastest of `rounds` runs of the batch (less noise from whatever else ran)."""
    runs = [batch() for _ in range(max(1, rounds))]
    for seconds, _ids in runs:
        print(f"  batch: {seconds:.1f} s", flush=True)
    return min(runs, key=lambda run: run[0])


def final_cuts(api: Api, render_ids: list[str]) -> list[dict[str, Any]]:
    wanted = set(render_ids)
    tasks = api.get("/tasks", params={"kind": "final_cut", "per_page": 100}).json()["data"]
    return [t for t in tasks if t["parent_id"] in wanted]


def describe(label: str, seconds: float, count: int, cuts: list[dict[str, Any]]) -> float:
    per_min = count / seconds * 60
    encode = [parse_time(c["finished_at"]) - parse_time(c["started_at"]) for c in cuts]
    print(
        f"{label}: {count} videos in {seconds:6.1f} s → {per_min:5.2f} videos/min "
        f"(final cut median {statistics.median(encode):.1f} s, max {max(encode):.1f} s)",
        flush=True,
    )
    return per_min


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=6, help="stories per batch")
    parser.add_argument("--resolution", default="360x640")
    parser.add_argument("--fps", type=int, default=12)
    parser.add_argument("--scenes", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2, help="jobs per video replica")
    parser.add_argument("--rounds", type=int, default=2, help="batches per setting (best kept)")
    args = parser.parse_args()
    options = {
        "scene_count": args.scenes,
        "video": {"resolution": args.resolution, "fps": args.fps},
        "music": True,
    }
    cores = os.cpu_count() or 0
    print(
        f"cores: {cores} (usable: {len(os.sched_getaffinity(0))}); batch: {args.count} stories, "
        f"{args.resolution} @ {args.fps} fps, {args.scenes} scenes, music; "
        f"{args.concurrency} job(s) at a time per video replica",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="storyreel-scale-") as tmp:
        began = time.monotonic()
        with Cluster(
            Path(tmp),
            video_replicas=1,
            concurrency={"workflow": max(8, args.count), "video": args.concurrency},
        ) as cluster:
            print(f"cluster up in {time.monotonic() - began:.1f} s: {cluster.url}", flush=True)
            api = Api(cluster.url)
            # Warm every process (imports, fonts, voices, jieba's dictionary for the Chinese
            # stories) so the first batch is not penalised.
            run_batch(api, 2, options)

            one_s, one_ids = best_of(args.rounds, lambda: run_batch(api, args.count, options))
            one = describe("1 video replica ", one_s, args.count, final_cuts(api, one_ids))

            cluster.add_video_replica()
            run_batch(api, 2, options)  # warm the new replica too (each takes one, usually)
            two_s, two_ids = best_of(args.rounds, lambda: run_batch(api, args.count, options))
            cuts = final_cuts(api, two_ids)
            two = describe("2 video replicas", two_s, args.count, cuts)

            wanted = {c["task_id"] for c in cuts}
            shares = {
                v.name: len({r["task_id"] for r in v.events("jobs.completed")} & wanted)
                for v in cluster.videos
            }
            print(f"final cuts per replica (2-replica batch): {shares}")
        print(f"ratio (2 replicas / 1): {two / one:.2f}× on {cores} cores")


if __name__ == "__main__":
    main()
