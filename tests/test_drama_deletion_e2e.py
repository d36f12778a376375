"""Deleting a drama removes what every service holds for it, through `drama.deleted`.

The script service announces the deletion on the EVENTS stream; the asset and workflow services
(and every other service that keeps drama data) each forget the drama from their own durable
consumer. The test looks in the SQLite file and the media folder, not through the API.
"""

from __future__ import annotations

import time

from e2e_client import Api, new_drama, png, wait_task
from leftovers import drama_documents, drama_media

from storyreel_cli.platform_process import PlatformProcess

OWNED = {"dramas", "scripts", "characters", "assets", "tasks"}


def _settle(check: object, timeout: float = 20.0) -> list[str]:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while True:
        left: list[str] = check()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def test_deleting_a_drama_leaves_nothing_behind(
    api: Api, other_api: Api, platform: PlatformProcess
) -> None:
    drama = new_drama(api, "Doomed")
    keep = new_drama(api, "Kept")
    for target in (drama, keep):
        r = api.post(
            f"/dramas/{target}/scripts",
            json={"title": "Act one", "content": "Mei pours the tea. The rain starts."},
        )
        assert r.status_code == 201, r.text
        r = api.post(f"/dramas/{target}/characters", json={"name": "Mei", "gender": "female"})
        assert r.status_code == 201, r.text
        mei = r.json()["data"]["id"]
        r = api.post(f"/dramas/{target}/characters/{mei}/generate-image", json={"count": 1})
        assert r.status_code == 202, r.text
        assert wait_task(api, r.json()["data"]["task_id"])["status"] == "completed"
        r = api.post(
            f"/dramas/{target}/assets/upload",
            files={"file": ("cup.png", png(), "image/png")},
            data={"tags": "prop"},
        )
        assert r.status_code == 201, r.text
    before = drama_documents(platform.data_dir, drama)
    assert {d.split("/")[0] for d in before} >= OWNED
    assert drama_media(platform.data_dir, drama)

    assert other_api.delete(f"/dramas/{drama}").status_code == 404  # not theirs: untouched
    assert drama_documents(platform.data_dir, drama) == before

    r = api.delete(f"/dramas/{drama}")
    assert r.status_code == 200, r.text
    assert api.get(f"/dramas/{drama}").status_code == 404
    assert _settle(lambda: drama_documents(platform.data_dir, drama)) == []
    assert _settle(lambda: drama_media(platform.data_dir, drama)) == []
    # The other drama of the same user keeps all of its content.
    kept = {d.split("/")[0] for d in drama_documents(platform.data_dir, keep)}
    assert kept >= OWNED
    assert drama_media(platform.data_dir, keep)
    assert api.delete(f"/dramas/{drama}").status_code == 404  # a repeat is a clean 404


def test_a_drama_deleted_mid_generation_leaves_no_storyboards(
    api: Api, platform: PlatformProcess
) -> None:
    """The clean-up may run before the job writes; the job then removes what it wrote."""
    drama = new_drama(api, "Short-lived")
    scenes = [
        {"id": f"s{n}", "number": n, "location": "harbour", "time": "night",
         "characters": ["Lin"], "narration": f"Lin waits at the harbour, night {n}.",
         "dialogue": [{"speaker": "Lin", "text": "The ship is late."}]}
        for n in (1, 2, 3)
    ]  # fmt: skip
    r = api.post(f"/dramas/{drama}/scripts", json={"title": "Harbour", "content": "Lin waits.",
                                                   "scenes": scenes})  # fmt: skip
    assert r.status_code == 201, r.text
    script = r.json()["data"]["id"]
    r = api.post(
        f"/dramas/{drama}/storyboards/generate",
        json={"script_id": script, "options": {"count_per_scene": 2}},
    )
    assert r.status_code == 202, r.text
    task_id = r.json()["data"]["task_id"]
    assert api.delete(f"/dramas/{drama}").status_code == 200
    # The job goes on drawing; wait until the worker is done with it (its record went with the
    # drama, so the worker's log tells), by which time it has checked the drama and forgotten.
    deadline = time.monotonic() + 90
    while not _job_ended(platform, task_id):
        assert time.monotonic() < deadline, "the generation job never ended"
        time.sleep(0.2)
    assert _settle(lambda: drama_documents(platform.data_dir, drama)) == []
    assert _settle(lambda: drama_media(platform.data_dir, drama)) == []


JOB_ENDS = ("jobs.completed", "jobs.failed", "jobs.crashed", "jobs.task_missing")


def _job_ended(platform: PlatformProcess, task_id: str) -> bool:
    lines = platform.log_path.read_text(errors="replace").splitlines()
    return any(task_id in line and any(end in line for end in JOB_ENDS) for line in lines)
