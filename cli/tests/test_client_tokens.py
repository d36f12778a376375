"""The CLI's REST client renews an expired access token with its refresh token, once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from storyreel_cli.client import ApiError, StoryReelClient
from storyreel_core.bus.nats_server import free_port
from storyreel_core.settings import Settings
from storyreel_gateway.app import create_app


@pytest.fixture
def gateway_url(tmp_path: Path) -> Iterator[str]:
    """The gateway alone (no services), with access tokens that expire after a second."""
    port = free_port()
    settings = Settings(data_dir=tmp_path, access_token_ttl_s=1, port=port)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "gateway did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_an_expired_access_token_is_renewed(gateway_url: str) -> None:
    client = StoryReelClient(gateway_url)
    client.login_or_register("mei", "tea house lanterns")
    first = client.token
    time.sleep(2.1)  # the access token (1 s) has expired
    assert client.request("GET", "/users/me")["username"] == "mei"
    assert client.token != first
    # Without a refresh token an expired access token is the caller's problem.
    time.sleep(2.1)
    client.refresh_token = None
    with pytest.raises(ApiError) as caught:
        client.request("GET", "/users/me")
    assert caught.value.status == 401 and caught.value.body["code"] == 1007
    client.close()
