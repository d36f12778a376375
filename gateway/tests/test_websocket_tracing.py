"""Which gateway traffic gets an OpenTelemetry server span."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from storyreel_core.settings import Settings
from storyreel_core.telemetry.testing import memory_exporter
from storyreel_core.testing import free_port
from storyreel_gateway.app import build_state, create_app


async def test_websockets_get_no_span_requests_do(tmp_path: Path) -> None:
    """A WebSocket gets no server span: one would last as long as the connection, and the
    middleware would run on every frame pushed (200 times per progress record with 200
    clients watching). An HTTP request beside it still gets its span."""
    dead = f"127.0.0.1:{free_port()}"
    settings = Settings(
        data_dir=tmp_path,
        **{f"{name}_addr": dead for name in ("script", "asset", "storyboard", "tts", "video")},
        workflow_addr=dead,
    )
    exporter = memory_exporter()
    state = await build_state(settings)
    app = create_app(settings, state)
    app.state.gateway = state
    exporter.clear()
    sent: list[dict[str, Any]] = []
    arriving = iter([{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}])

    async def receive() -> dict[str, Any]:
        return next(arriving)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "server": ("gw", 80),
        "client": ("127.0.0.1", 5000),
        "path": "/api/v1/ws",
        "raw_path": b"/api/v1/ws",
        "root_path": "",
        "query_string": b"token=not-a-token",
        "headers": [(b"host", b"gw")],
        "subprotocols": [],
        "state": {},
    }
    try:
        await app(scope, receive, send)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gw"
        ) as client:
            r = await client.get("/api/v1/dramas")  # no token: 401
    finally:
        await state.stubs.close()
    assert sent[0]["type"] == "websocket.accept" and sent[-1] == {
        "type": "websocket.close",
        "code": 4401,
        "reason": sent[-1].get("reason"),
    }
    assert r.status_code == 401
    names = [s.name for s in exporter.get_finished_spans()]
    assert "GET /api/v1/dramas" in names, names
    assert not [name for name in names if "/ws" in name], names
