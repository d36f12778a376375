"""Run `storyreel up` as a child process on a free port: for end-to-end tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from storyreel_core.bus.nats_server import free_port


class PlatformProcess:
    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.extra_env = env or {}
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "platform.log"

    def start(self, timeout: float = 90.0) -> PlatformProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "STORYREEL_PORT": str(self.port),
            "STORYREEL_DATA_DIR": str(self.data_dir),
            "STORYREEL_LOG_LEVEL": "INFO",
            **self.extra_env,
        }
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "storyreel"), "up"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"platform exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        # Not left running behind the error: nothing else would ever stop it.
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        raise RuntimeError(f"platform did not start in {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self, timeout: float = 30.0) -> int:
        """Ctrl-C, as a user stops `make run`; returns the exit code."""
        proc, self.proc = self.proc, None
        if proc is None:
            return 0
        proc.send_signal(signal.SIGINT)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
