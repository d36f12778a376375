"""Two video replicas share one work queue: a batch of renders is spread over both.

Scaling a service out is meant to be "start another process": replicas bind to the same
durable JetStream consumer (`video-workers`), so each job goes to exactly one of them and an
idle replica takes the next. Each replica here runs one job at a time and logs, as JSON to its
own file, `jobs.completed` with the task id — that is how the test tells who did what.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cluster import Cluster, stage_task_id, submit_render, wait_task
from e2e_client import Api

STORIES = [
    'Mara kept the lighthouse. A storm came at night. "Hold on!" Mara shouted to the boat.',
    'Tom fished at dawn. The net was empty. "Tomorrow will be better," his sister said.',
    "夜色笼罩着荒城。武者林风走进茶馆。苏梅说：“高塔在北边。”",
    'The old clockmaker fixed the tower clock. "Time waits for no one," he told the child.',
]
TINY: dict[str, Any] = {"scene_count": 2, "video": {"resolution": "180x320", "fps": 8}}


def test_concurrent_renders_spread_final_cuts_over_both_video_replicas(cluster: Cluster) -> None:
    """Four renders at once: every one completes, each final cut ran on exactly one replica,
    and each of the two replicas took at least one."""
    assert len(cluster.videos) == 2
    api = Api(cluster.url)
    render_ids = [submit_render(api, story, seed=i, **TINY) for i, story in enumerate(STORIES)]
    with ThreadPoolExecutor(len(render_ids)) as pool:
        renders = list(pool.map(lambda rid: wait_task(api, rid, timeout=180), render_ids))
    for render in renders:
        assert render["status"] == "completed", f"{render['error']}\n{cluster.logs()}"

    cut_ids = {stage_task_id(api, rid, "final") for rid in render_ids}
    done_by = {
        replica.name: [
            r["task_id"] for r in replica.events("jobs.completed") if r["task_id"] in cut_ids
        ]
        for replica in cluster.videos
    }
    runs = Counter(task_id for done in done_by.values() for task_id in done)
    assert set(runs) == cut_ids, done_by
    assert set(runs.values()) == {1}, f"a final cut ran to completion twice: {done_by}"
    assert all(done_by.values()), f"one replica took every final cut: {done_by}"
