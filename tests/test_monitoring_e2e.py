"""Monitoring through the running platform (seed 003): health, metrics, status, alerts, the
JetStream queue, and the admin gate on the error log."""

from __future__ import annotations

from e2e_client import Api, assert_error, completed_task, new_drama

SERVICES = {"script", "asset", "storyboard", "tts", "video", "workflow"}


def test_health_reports_every_dependency_up(api: Api) -> None:
    for path in ("/health", "/api/v1/health"):
        r = api.http.get(path)
        assert r.status_code == 200, r.text
        report = r.json()["data"]
        assert report["status"] == "healthy" and report["down"] == []
        deps = report["dependencies"]
        assert deps["document_store"]["status"] == "up"
        assert deps["object_store"]["status"] == "up"
        assert deps["bus"]["status"] == "up"
        assert set(deps["services"]) == SERVICES
        assert all(s["status"] == "up" for s in deps["services"].values())


def test_queue_status_is_not_a_task_id(api: Api) -> None:
    r = api.get("/tasks/queue/status")
    assert r.status_code == 200, r.text
    queue = r.json()["data"]
    assert queue["stream"]["name"] == "JOBS"
    names = {c["name"] for c in queue["consumers"]}
    assert names, queue
    for consumer in queue["consumers"]:
        assert {"pending", "ack_pending", "redelivered", "waiting"} <= set(consumer)
    assert_error(api.get("/tasks/queue"), 404, 1002)  # this one is a task id, and unknown


def test_metrics_count_tasks_by_status_and_time_jobs(api: Api) -> None:
    drama_id = new_drama(api)
    r = api.post(f"/dramas/{drama_id}/scripts/generate", json={"prompt": "A rainy night."})
    completed_task(api, r)
    r = api.get("/monitoring/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    lines = r.text.splitlines()
    completed = [ln for ln in lines if ln.startswith('storyreel_tasks{status="completed"}')]
    assert completed and float(completed[0].split()[-1]) >= 1
    assert "storyreel_tasks_count_up 1.0" in lines
    assert any(ln.startswith("storyreel_job_duration_seconds_bucket{") for ln in lines)
    assert any(ln.startswith("storyreel_task_transitions_total{") for ln in lines)


def test_status_alerts_and_the_admin_only_error_log(api: Api) -> None:
    status = api.get("/monitoring/status")
    assert status.status_code == 200, status.text
    data = status.json()["data"]
    assert data["running"] and data["health"]["status"] == "healthy"
    assert data["collectors"]["task_metrics"] == "active" and data["queue"]["stream"]
    alerts = api.get("/monitoring/alerts").json()["data"]
    assert not [a for a in alerts["alerts"] if a["rule_name"] == "dependency_down"]
    history = api.get("/monitoring/alerts/history", params={"hours": 24})
    assert history.status_code == 200 and history.json()["data"]["time_range_hours"] == 24
    assert_error(api.get("/monitoring/logs/errors"), 403, 1004)  # no user is an admin yet
