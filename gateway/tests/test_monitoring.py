"""Monitoring in the gateway alone: health with services down, the admin gate on the error log,
and the alert rules with their history on a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from storyreel_core.bus.nats_server import free_port
from storyreel_core.logging import configure_logging, get_logger
from storyreel_core.settings import Settings
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_gateway.app import build_state, create_app
from storyreel_gateway.monitoring.alerts import ALERTS, AlertBook, evaluate
from storyreel_gateway.state import GatewayState


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, GatewayState]]:
    dead = f"127.0.0.1:{free_port()}"
    settings = Settings(
        data_dir=tmp_path,
        **{f"{name}_addr": dead for name in ("script", "asset", "storyboard", "tts", "video")},
        workflow_addr=dead,
        grpc_deadline_s=2.0,
    )
    state = await build_state(settings)
    app = create_app(settings, state)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c, state
    await state.docs.close()


async def login(client: httpx.AsyncClient, name: str) -> tuple[dict[str, str], str]:
    r = await client.post(
        "/api/v1/auth/register",
        json={"username": name, "email": f"{name}@example.com", "password": "correct horse"},
    )
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    return {"Authorization": f"Bearer {data['access_token']}"}, data["user"]["id"]


async def test_health_is_503_with_the_report_when_services_are_down(
    gateway: tuple[httpx.AsyncClient, GatewayState],
) -> None:
    client, _ = gateway
    for path in ("/health", "/api/v1/health"):
        r = await client.get(path)
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["code"] == 5003
        report = body["data"]
        assert report["status"] == "unhealthy"
        assert report["version"] and report["timestamp"].endswith("Z")
        deps = report["dependencies"]
        assert deps["document_store"]["status"] == "up"
        assert deps["object_store"]["status"] == "up"
        assert deps["bus"]["status"] == "off"  # no NATS: realtime off, not a failure
        assert set(deps["services"]) == {
            "script",
            "asset",
            "storyboard",
            "tts",
            "video",
            "workflow",
        }
        assert all(s["status"] == "down" for s in deps["services"].values())
        assert "services.workflow" in report["down"]
    live = await client.get("/health/live")  # what the container and k8s probes ask
    assert live.status_code == 200 and live.json()["data"] == {"status": "alive"}


async def test_error_log_is_for_admins_only(
    gateway: tuple[httpx.AsyncClient, GatewayState],
) -> None:
    client, state = gateway
    headers, user_id = await login(client, "mallory")
    r = await client.get("/api/v1/monitoring/logs/errors", headers=headers)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == 1004
    assert (await client.get("/api/v1/monitoring/logs/errors")).status_code == 401

    configure_logging()  # what every StoryReel process does at start (it installs the capture)
    get_logger("storyreel.test").error("test.boom", task_id="task_x")
    await state.docs.update("users", user_id, {"role": "admin"})
    r = await client.get("/api/v1/monitoring/logs/errors?hours=1", headers=headers)
    assert r.status_code == 200, r.text
    errors = r.json()["data"]["errors"]
    assert any(e["message"] == "test.boom" and e["fields"]["task_id"] == "task_x" for e in errors)
    bad = await client.get("/api/v1/monitoring/logs/errors?hours=99", headers=headers)
    assert bad.status_code == 400


async def test_queue_status_without_a_bus_is_503_not_a_task_lookup(
    gateway: tuple[httpx.AsyncClient, GatewayState],
) -> None:
    client, _ = gateway
    headers, _ = await login(client, "quinn")
    r = await client.get("/api/v1/tasks/queue/status", headers=headers)
    assert r.status_code == 503
    assert "job queue" in r.json()["message"]  # the route's own answer, not GetTask's


async def test_alerts_fire_for_down_services_and_resolve_into_history(
    gateway: tuple[httpx.AsyncClient, GatewayState],
) -> None:
    client, state = gateway
    headers, _ = await login(client, "ops")
    r = await client.get("/api/v1/monitoring/alerts", headers=headers)
    assert r.status_code == 200, r.text
    active = r.json()["data"]["alerts"]
    assert {a["subject"] for a in active if a["rule_name"] == "dependency_down"} >= {
        "services.workflow",
        "services.script",
    }
    # Asking again opens nothing twice.
    again = (await client.get("/api/v1/monitoring/alerts", headers=headers)).json()["data"]
    assert again["count"] == len(active)
    assert await state.docs.count(ALERTS) == len(active)

    book = AlertBook(state.docs)
    assert await book.reconcile([]) == []  # everything recovered
    r = await client.get("/api/v1/monitoring/alerts/history?hours=1", headers=headers)
    history = r.json()["data"]["alerts"]
    assert len(history) == len(active)
    assert all(a["resolved_at"] is not None for a in history)
    assert (
        await client.get("/api/v1/monitoring/alerts/history?hours=0", headers=headers)
    ).status_code == 400


def snapshot(**parts: Any) -> dict[str, Any]:
    return {"health": {"down": []}, "queue": None, "tasks": None, **parts}


def test_rules_read_queue_lag_and_the_failure_rate(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, alert_queue_lag=10, alert_failure_rate=0.25, alert_min_finished=4
    )
    consumer = {"name": "video-jobs", "pending": 8, "ack_pending": 3}
    fired = evaluate(snapshot(queue={"consumers": [consumer]}), settings)
    assert [(f.rule_name, f.subject, f.value) for f in fired] == [("queue_lag", "video-jobs", 11.0)]
    assert evaluate(snapshot(queue={"consumers": [{**consumer, "pending": 7}]}), settings) == []

    few = {"finished_recently": {"failed": 3, "completed": 0, "cancelled": 0}}
    assert evaluate(snapshot(tasks=few), settings) == []  # below alert_min_finished
    many = {"finished_recently": {"failed": 2, "completed": 4, "cancelled": 0}}
    (rate,) = evaluate(snapshot(tasks=many), settings)
    assert rate.rule_name == "task_failure_rate" and rate.value == pytest.approx(1 / 3, abs=1e-3)
    fine = {"finished_recently": {"failed": 1, "completed": 5, "cancelled": 0}}
    assert evaluate(snapshot(tasks=fine), settings) == []


async def test_two_evaluators_open_one_alert(tmp_path: Path) -> None:
    docs = await SqliteDocumentStore(tmp_path / "a.db").connect()
    settings = Settings(data_dir=tmp_path)
    book = AlertBook(docs)
    await book.ensure_indexes()
    fired = evaluate(snapshot(health={"down": ["bus"]}), settings)
    await book.reconcile(fired)
    await book.reconcile(fired)
    assert await docs.count(ALERTS) == 1
    await book.reconcile([])
    await book.reconcile(fired)  # it broke again: a second alert, the first stays resolved
    assert await docs.count(ALERTS) == 2
    assert await docs.count(ALERTS, {"resolved_at": None}) == 1
    await docs.close()
