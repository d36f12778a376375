"""The images' HEALTHCHECK one-liners, run against real deployables started locally.

Started in embedded mode (SQLite, a folder, the bundled nats-server) from this workspace's
venv: what is under test is the health check code and the graceful SIGTERM stop that the
images rely on, not the container itself.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def healthcheck_argv(dockerfile: Path) -> list[str]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    match = re.search(r"^HEALTHCHECK .*?\bCMD (\[.*\])\s*$", text, re.M)
    assert match, f"{dockerfile}: no exec-form HEALTHCHECK"
    argv: list[str] = json.loads(match.group(1))
    return [sys.executable if argv[0] == "python" else argv[0], *argv[1:]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, within_s: float) -> None:
    """Wait in-process for the port to accept (cheaper than spawning the check each time)."""
    end = time.monotonic() + within_s
    while time.monotonic() < end:
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)


def _poll(argv: list[str], env: dict[str, str], within_s: float) -> int:
    end = time.monotonic() + within_s
    rc = -1
    while time.monotonic() < end:
        rc = subprocess.run(argv, env=env, capture_output=True, timeout=10).returncode
        if rc == 0:
            return rc
        time.sleep(0.5)
    return rc


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYREEL_")}
    env["STORYREEL_DATA_DIR"] = str(tmp_path / "data")
    env["STORYREEL_METRICS_PORT"] = "0"  # never the shared default 9464 in tests
    return env


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


@pytest.mark.timeout(60)
def test_service_grpc_healthcheck_and_sigterm(tmp_path: Path) -> None:
    exe = BIN / "storyreel-storyboard"
    if not exe.exists():
        pytest.skip("storyreel-storyboard is not installed in this environment")
    argv = healthcheck_argv(REPO / "services" / "storyboard" / "Dockerfile")
    env = _base_env(tmp_path)
    env["STORYREEL_GRPC_HOST"] = "127.0.0.1"
    env["STORYREEL_GRPC_PORT"] = str(_free_port())
    metrics_port = _free_port()
    env["STORYREEL_METRICS_PORT"] = str(metrics_port)
    # Nothing listens yet: the check must fail, not hang.
    assert subprocess.run(argv, env=env, capture_output=True, timeout=15).returncode != 0
    log = (tmp_path / "service.log").open("wb")
    proc = subprocess.Popen([str(exe)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_listening(int(env["STORYREEL_GRPC_PORT"]), 40)
        assert _poll(argv, env, 20) == 0, (tmp_path / "service.log").read_text()[-2000:]
        # What the Prometheus annotations and the `metrics` port point at.
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200
    finally:
        rc = _stop(proc)
    assert rc == 0, "SIGTERM must stop the service cleanly"
    assert "service.stopping" in (tmp_path / "service.log").read_text()


@pytest.mark.timeout(60)
def test_gateway_http_healthcheck(tmp_path: Path) -> None:
    exe = BIN / "storyreel-gateway"
    if not exe.exists():
        pytest.skip("storyreel-gateway is not installed in this environment")
    argv = healthcheck_argv(REPO / "gateway" / "Dockerfile")
    env = _base_env(tmp_path)
    env["STORYREEL_HOST"] = "127.0.0.1"
    env["STORYREEL_PORT"] = str(_free_port())
    assert subprocess.run(argv, env=env, capture_output=True, timeout=15).returncode != 0
    log = (tmp_path / "gateway.log").open("wb")
    proc = subprocess.Popen([str(exe)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_listening(int(env["STORYREEL_PORT"]), 40)
        assert _poll(argv, env, 20) == 0, (tmp_path / "gateway.log").read_text()[-2000:]
    finally:
        _stop(proc)
