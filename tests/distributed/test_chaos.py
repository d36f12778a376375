"""Chaos: processes SIGKILLed while renders run; no task may stay `running` for ever.

One cluster (see `tests/cluster.py`) with short job settings — a 2 s ack wait, two deliveries
per job, a task heartbeat every half second and a reaper sweeping every second for tasks
untouched for 6 s — goes through, in order:

- the same job killed on every delivery: the only video worker is SIGKILLed each time it takes
  the render's final cut, and a process manager brings it back. After the second delivery
  JetStream's max-deliveries advisory fails the final cut with a reason, the render fails
  naming it, and the worker's scratch folder is cleared at its restart. `POST /tasks/{id}/retry`
  then resumes the render at the final cut, re-attaching the four stage tasks that finished.
- the workflow (the render's own worker) killed mid-render and restarted: the render is
  redelivered and completes, reusing the stages that were done (one task per stage).
- nats-server killed mid-render and restarted on its store: the render ends `completed`, or
  `failed` with a reason.
- a seed 001 workflow paused while a stage runs and its service SIGKILLed at once: the stage
  completes from the events its tasks left in the stream, the workflow stays paused, and
  resumed it completes with every stage run once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from cluster import (
    TERMINAL,
    Cluster,
    Proc,
    stage_task_id,
    start_cluster,
    submit_render,
    wait_task,
    workflow_task_ids,
)
from e2e_client import Api

STORY = (
    "Mara kept the lighthouse on the edge of the grey sea. One stormy night a small boat "
    'drifted toward the rocks. "Hold on!" Mara shouted. At dawn a fisherman named Tom '
    'climbed the stairs. "You saved my life," Tom said.'
)
MAX_DELIVER = 2
OPTIONS: dict[str, Any] = {
    "scene_count": 2,
    "video": {"resolution": "360x640", "fps": 24},
    "music": False,
}
# Where only the outcome matters: the smallest render.
SMALL: dict[str, Any] = {"scene_count": 1, "video": {"resolution": "180x320", "fps": 12}}
# The kind of the task the render's workflow starts for its final cut.
FINAL_KIND = "final_cut"


@pytest.fixture(scope="module")
def chaos_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = start_cluster(
        tmp_path_factory.mktemp("chaos"),
        video_replicas=1,
        ack_wait_s=2.0,
        concurrency={"video": 1},
        extra_env={
            "STORYREEL_JOB_MAX_DELIVER": str(MAX_DELIVER),
            "STORYREEL_JOB_BACKOFF_S": "[0.5]",
            "STORYREEL_TASK_HEARTBEAT_S": "0.5",
            "STORYREEL_TASK_STALE_AFTER_S": "6",
            "STORYREEL_TASK_REAPER_INTERVAL_S": "1",
        },
    )
    try:
        yield cluster
    finally:
        cluster.stop()


def settled(api: Api, task_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """`wait_task`, riding out the 503s the gateway answers while the task API's service (the
    workflow) or NATS restarts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.get(f"/tasks/{task_id}")
        if r.status_code == 503:
            time.sleep(0.5)
            continue
        assert r.status_code == 200, r.text
        task: dict[str, Any] = r.json()["data"]
        if task["status"] in TERMINAL:
            return task
        time.sleep(0.5)
    raise AssertionError(f"task {task_id} did not finish within {timeout}s")


def wait_running(api: Api, task_id: str, attempt: int, timeout: float = 120.0) -> None:
    """Until the task runs its `attempt`-th delivery."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = api.get(f"/tasks/{task_id}").json()["data"]
        assert task["status"] not in TERMINAL, f"ended before delivery {attempt}: {task}"
        if task["status"] == "running" and task["attempts"] >= attempt:
            return
        time.sleep(0.05)
    raise AssertionError(f"{task_id} never ran delivery {attempt}")


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def has_files(folder: Path) -> bool:
    try:
        return any(folder.iterdir())
    except OSError:
        return False


def scratch_of(proc: Proc, task_id: str) -> Path:
    return Path(proc.env["STORYREEL_DATA_DIR"]).resolve() / "scratch" / "video" / task_id


def test_a_job_killed_on_every_delivery_fails_with_a_reason_and_its_render_is_retried(
    chaos_cluster: Cluster,
) -> None:
    cluster = chaos_cluster
    api = Api(cluster.url)
    render_id = submit_render(api, STORY, seed=5, **OPTIONS)
    cut_id = stage_task_id(api, render_id, "final")
    for delivery in range(1, MAX_DELIVER + 1):
        wait_running(api, cut_id, delivery)
        victim = cluster.videos[0]
        left = scratch_of(victim, cut_id)
        wait_for(partial(has_files, left), "media fetched into the job's scratch folder")
        victim.kill()  # SIGKILL: no ack, no nak, no clean-up
        assert left.is_dir(), "the job's scratch folder is under the worker's data dir"
        orphan = scratch_of(victim, f"task_orphan{delivery}")  # an older crash's leftovers
        orphan.mkdir()
        (orphan / "frame.png").write_bytes(b"x" * 1000)
        cluster.restart(victim)
        assert not orphan.exists(), "the restarted worker cleared what killed ones left"

    cut = wait_task(api, cut_id, timeout=60)
    assert cut["status"] == "failed", cut
    assert f"gave up after {MAX_DELIVER} deliveries" in cut["error"]["reason"]
    render = wait_task(api, render_id, timeout=60)
    assert render["status"] == "failed", render
    assert "final stage failed" in render["error"]["reason"]
    assert "gave up" in render["error"]["reason"]
    before = workflow_task_ids(api, render_id)
    assert before[FINAL_KIND] == [cut_id], before

    r = api.post(f"/tasks/{render_id}/retry")
    assert r.status_code == 200, r.text
    render = wait_task(api, render_id, timeout=120)
    assert render["status"] == "completed", f"{render['error']}\n{cluster.logs()}"
    after = workflow_task_ids(api, render_id)
    for kind in set(before) - {FINAL_KIND}:
        assert after[kind] == before[kind], f"{kind} ran again instead of being kept"
    assert len(after[FINAL_KIND]) == 2 and cut_id in after[FINAL_KIND]
    assert render["result"]["video_key"].startswith(f"dramas/{render['result']['drama_id']}/")


def test_a_killed_workflow_worker_is_replaced_and_the_render_completes(
    chaos_cluster: Cluster,
) -> None:
    cluster = chaos_cluster
    api = Api(cluster.url)
    render_id = submit_render(api, STORY, seed=6, **SMALL)
    stage_task_id(api, render_id, "frames")  # script and storyboard are done by now
    workflow = cluster.services["workflow"]
    workflow.kill()
    cluster.restart(workflow)
    render = settled(api, render_id)
    assert render["status"] == "completed", f"{render['error']}\n{cluster.logs()}"
    assert render["attempts"] >= 2, "the render was not redelivered after the crash"
    # Each storyboard's frame and audio, each character's sheet: one task each, none twice.
    ids = workflow_task_ids(api, render_id)
    assert all(len(found) == len(set(found)) for found in ids.values()), ids
    assert len(ids[FINAL_KIND]) == 1, ids


def test_a_killed_nats_server_leaves_no_render_running_for_ever(chaos_cluster: Cluster) -> None:
    cluster = chaos_cluster
    api = Api(cluster.url)
    render_id = submit_render(api, STORY, seed=7, **SMALL)
    stage_task_id(api, render_id, "frames")
    nats = cluster.backing("nats-server")
    nats.kill()
    time.sleep(1.0)
    cluster.restart(nats)
    render = settled(api, render_id)
    assert render["status"] in ("completed", "failed"), render
    if render["status"] == "failed":
        assert render["error"]["reason"], render
    for stage, found in workflow_task_ids(api, render_id).items():
        for task_id in found:
            task = settled(api, task_id, timeout=60)
            assert task["status"] in TERMINAL, (stage, task)


def workflow_now(api: Api, workflow_id: str) -> dict[str, Any] | None:
    """GET /workflow/{id}, or None while the workflow service restarts (503)."""
    r = api.get(f"/workflow/{workflow_id}")
    if r.status_code == 503:
        return None
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()["data"]
    return doc


def workflow_until(
    api: Api, workflow_id: str, check: Callable[[dict[str, Any]], bool], timeout: float = 120.0
) -> dict[str, Any]:
    """The workflow once `check` holds for it, or once it failed (this cluster's two short
    deliveries may fail a stage on a loaded machine: then it must say why)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = workflow_now(api, workflow_id)
        if doc is not None:
            if check(doc) or doc["status"] == "failed":
                return doc
            assert doc["status"] != "cancelled", doc
        time.sleep(0.3)
    raise AssertionError(f"workflow {workflow_id}: never got there")


def completed_after_retries(api: Api, workflow_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    """A failed workflow names its stage and reason, and `retry` runs it on to the end."""
    for _ in range(3):
        if doc["status"] != "failed":
            break
        assert doc["error"]["stage"] and doc["error"]["reason"], doc
        assert api.post(f"/workflow/{workflow_id}/retry").status_code == 200
        doc = workflow_until(api, workflow_id, lambda d: d["status"] == "completed", 180)
    assert doc["status"] == "completed", doc
    return doc


def test_a_workflow_survives_its_service_killed_while_paused_with_a_stage_running(
    chaos_cluster: Cluster,
) -> None:
    """Seed 001's workflow: its state lives in the store and its consumer of task events is
    durable. Paused while a stage runs, its service SIGKILLed at once: the stage's tasks end
    while no workflow process listens, and once the service is back the stage is completed
    from their events and nothing after it starts (still paused); resumed, it completes with
    every stage run once. (A stage that this cluster's short deliveries fail instead must
    give its reason and complete when retried.)"""
    cluster = chaos_cluster
    api = Api(cluster.url)
    body = {
        "name": "Lighthouse",
        "input_type": "novel",
        "input_content": STORY,
        "options": {"preferences": {"scene_count": 1, "resolution": "180x320",
                                    "frame_rate": 12, "music": False}},
    }  # fmt: skip
    r = api.post("/workflow", json=body)
    assert r.status_code == 202, r.text
    workflow_id = r.json()["data"]["workflow_id"]
    doc = workflow_until(api, workflow_id, lambda d: d["current_stage"] in ("frames", "audio"))
    if doc["status"] == "failed":
        completed_after_retries(api, workflow_id, doc)
        return
    paused = api.post(f"/workflow/{workflow_id}/pause").json()["data"]
    assert paused["status"] == "paused", paused
    service = cluster.services["workflow"]
    service.kill()
    cluster.restart(service)

    def held(doc: dict[str, Any]) -> bool:
        return all(s["status"] != "running" for s in doc["stages"])

    doc = workflow_until(api, workflow_id, held)
    if doc["status"] == "failed":
        completed_after_retries(api, workflow_id, doc)
        return
    assert doc["status"] == "paused", doc
    stages = {s["stage"]: s for s in doc["stages"]}
    assert stages[paused["current_stage"]]["status"] == "completed"
    after = [s for s in doc["stages"] if s["status"] != "completed"]
    assert after and all(s["task_ids"] == [] for s in after), doc["stages"]

    assert api.post(f"/workflow/{workflow_id}/resume").status_code == 200
    doc = workflow_until(api, workflow_id, lambda d: d["status"] == "completed", timeout=180)
    if doc["status"] == "failed":
        completed_after_retries(api, workflow_id, doc)
        return
    assert doc["video"]["url"], doc
    assert all(s["attempt"] == 1 for s in doc["stages"]), doc["stages"]
    ids = [t for s in doc["stages"] for t in s["task_ids"]]
    assert len(ids) == len(set(ids))
