"""StoryReel as a distributed system on one machine: every deployable a separate OS process.

`Cluster` starts the backing services (nats-server with JetStream, nx-27017 speaking the MongoDB
wire protocol, SeaweedFS's `weed mini` as a real S3 server), then the six services and the gateway
exactly as a deployment would: `storyreel-<name>` executables configured only by `STORYREEL_*`
environment variables, on free loopback ports, with data in a scratch folder. Every process
lives in its own session and logs JSON to its own file, so a test can SIGKILL one worker, read
what each replica did, and tear the whole cluster down (process groups included) even after a
failure.

Used by `tests/distributed/` and by `bench/scale.py` (which puts `tests/` on `sys.path`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from storyreel_core.seaweedfs import SeaweedS3

BIN = Path(sys.executable).parent
SERVICES = ("script", "storyboard", "asset", "tts", "video", "workflow")
S3_ACCESS_KEY = "storyreel-test"
S3_SECRET_KEY = "storyreel-test-secret"
START_TIMEOUT_S = 60.0
TERMINAL = ("completed", "failed", "cancelled")


class MissingStandIn(RuntimeError):
    """A backing server (nats-server, nx-27017, weed) is not installed."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _logged_ready(proc: Proc) -> bool:
    return bool(proc.events("service.ready"))


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def executable(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        raise MissingStandIn(f"{name} is not installed")
    return found


@dataclass
class Proc:
    """One OS process of the cluster, in its own session, logging to its own file."""

    name: str
    args: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def spawn(self, cwd: Path) -> Proc:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self.popen = subprocess.Popen(
                self.args,
                env={**os.environ, **self.env},
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: ffmpeg children die with it
            )
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """The JSON log records of this process (all of them, or those of one event name)."""
        records = []
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        for line in lines:
            if not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if event is None or record.get("event") == event:
                records.append(record)
        return records

    @property
    def storyreel(self) -> bool:
        return Path(self.args[0]).name.startswith("storyreel")

    def terminate(self) -> None:
        if self.alive():
            assert self.popen is not None
            self.popen.terminate()

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send `sig` to this process only (its children are left as a crash leaves them)."""
        if self.alive():
            assert self.popen is not None
            os.kill(self.popen.pid, sig)
            if sig == signal.SIGKILL:
                self.popen.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (a graceful stop), then SIGKILL for the whole process group."""
        popen = self.popen
        if popen is None:
            return
        if popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                popen.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                popen.wait(timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)  # stragglers: ffmpeg, espeak, or the process
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(5)


def _wait(what: str, proc: Proc, ready: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{what} exited early:\n{proc.log_tail()}")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready within {timeout}s:\n{proc.log_tail()}")


class Cluster:
    """Gateway + six services + nats-server + nx-27017 + SeaweedFS S3, each its own process."""

    def __init__(
        self,
        root: Path,
        *,
        video_replicas: int = 1,
        video_cpus: Sequence[str] = (),
        ack_wait_s: float = 5.0,
        concurrency: dict[str, int] | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.root = Path(root)
        self.video_replicas = video_replicas
        self.video_cpus = list(video_cpus)  # replica i pinned to video_cpus[i], when given
        self.ack_wait_s = ack_wait_s
        self.concurrency = {"workflow": 8, **(concurrency or {})}
        self.extra_env = extra_env or {}
        self.jwt_secret = secrets.token_urlsafe(48)
        self.bucket = f"storyreel-{uuid.uuid4().hex[:10]}"
        self.database = f"storyreel_{uuid.uuid4().hex[:10]}"
        self.procs: list[Proc] = []
        self.services: dict[str, Proc] = {}
        self.videos: list[Proc] = []
        self.gateway: Proc | None = None
        self.ports = {name: free_port() for name in SERVICES}
        self.mongo_url = ""
        self.s3: SeaweedS3 | None = None
        self.s3_endpoint = ""
        self.nats_url = ""
        self.url = ""

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Cluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> Cluster:
        self.root.mkdir(parents=True, exist_ok=True)
        for name in ("nats-server", "nx-27017", "weed"):
            executable(name)  # fail fast (MissingStandIn) before anything is started
        self._start_nats()
        self._start_mongo()
        self._start_s3()
        # The services are independent of one another at start-up: start them all, then wait.
        started = [self._spawn_service(name) for name in SERVICES if name != "video"]
        started += [
            self.add_video_replica(
                wait=False, cpus=self.video_cpus[i] if i < len(self.video_cpus) else None
            )
            for i in range(self.video_replicas)
        ]
        self._spawn_gateway()
        for proc in started:
            self.wait_ready(proc)
        self._wait_gateway()
        return self

    def terminate_storyreel(self, timeout: float = 15.0) -> dict[str, tuple[int | None, float]]:
        """SIGTERM every live StoryReel process at once, as an orchestrator stops a release;
        each one's (exit code, seconds to exit), None for one still running at `timeout`."""
        ours = [p for p in self.procs if p.storyreel and p.alive()]
        started = time.monotonic()
        for proc in ours:
            proc.terminate()
        exits: dict[str, tuple[int | None, float]] = {}
        for proc in ours:
            assert proc.popen is not None
            left = max(0.1, timeout - (time.monotonic() - started))
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(left)
            exits[proc.name] = (proc.popen.poll(), round(time.monotonic() - started, 2))
        return exits

    def stop(self) -> None:
        """Stop every process: SIGTERM to all StoryReel processes at once (each drains for a
        few seconds), then the backing servers they used; SIGKILL for whatever lingers."""
        ours = [p for p in self.procs if p.storyreel]
        for proc in ours:
            with contextlib.suppress(Exception):
                proc.terminate()
        for proc in [*ours, *reversed([p for p in self.procs if not p.storyreel])]:
            with contextlib.suppress(Exception):
                proc.stop()
        if self.s3 is not None:
            with contextlib.suppress(Exception):
                self.s3.stop()

    # --- backing services ----------------------------------------------------------------------

    def _server(self, name: str, args_for_port: Callable[[int], list[str]]) -> tuple[Proc, int]:
        last = ""
        for attempt in range(3):  # another process may grab the free port before we bind it
            port = free_port()
            proc = Proc(
                name=name,
                args=args_for_port(port),
                log_path=self.root / "logs" / f"{name}.{attempt}.log",
                port=port,
            ).spawn(self.root)
            self.procs.append(proc)
            try:
                _wait(name, proc, lambda port=port: accepts(port), START_TIMEOUT_S)  # type: ignore[misc]
                return proc, port
            except RuntimeError as exc:
                last = str(exc)
                proc.stop()
        raise RuntimeError(last)

    def _start_nats(self) -> None:
        store = self.root / "nats"
        store.mkdir(parents=True, exist_ok=True)

        def args(port: int) -> list[str]:
            config = store / "nats-server.conf"
            config.write_text(
                f'listen: "127.0.0.1:{port}"\n'
                f'jetstream {{\n  store_dir: "{store.resolve()}"\n  sync_interval: always\n}}\n'
            )
            return [executable("nats-server"), "-c", str(config)]

        _proc, port = self._server("nats-server", args)
        self.nats_url = f"nats://127.0.0.1:{port}"

    def _start_mongo(self) -> None:
        data = self.root / "nx27017"

        def args(port: int) -> list[str]:
            return [
                executable("nx-27017"),
                "--host",
                "127.0.0.1",
                "-p",
                str(port),
                "--data-dir",
                str(data / "data"),
                "--log-file",
                str(data / "nx.log"),
                "--pid-file",
                str(data / "nx.pid"),
            ]

        data.mkdir(parents=True, exist_ok=True)
        _proc, port = self._server("nx-27017", args)
        self.mongo_url = f"mongodb://127.0.0.1:{port}/?directConnection=true"

    def _start_s3(self) -> None:
        self.s3 = SeaweedS3(
            self.root / "seaweedfs", access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY
        )
        self.s3.start()
        self.s3_endpoint = self.s3.endpoint

    # --- StoryReel processes -------------------------------------------------------------------

    def common_env(self) -> dict[str, str]:
        env = {
            "STORYREEL_ENVIRONMENT": "production",
            "STORYREEL_LOG_JSON": "true",
            "STORYREEL_LOG_LEVEL": "INFO",
            "STORYREEL_MONGODB_URL": self.mongo_url,
            "STORYREEL_MONGODB_DATABASE": self.database,
            "STORYREEL_S3_ENDPOINT": self.s3_endpoint,
            "STORYREEL_S3_ACCESS_KEY": S3_ACCESS_KEY,
            "STORYREEL_S3_SECRET_KEY": S3_SECRET_KEY,
            "STORYREEL_S3_BUCKET": self.bucket,
            "STORYREEL_NATS_URL": self.nats_url,
            "STORYREEL_JOB_ACK_WAIT_S": str(self.ack_wait_s),
            "PYTHONUNBUFFERED": "1",
        }
        for name, port in self.ports.items():
            env[f"STORYREEL_{name.upper()}_ADDR"] = f"127.0.0.1:{port}"
        return {**env, **self.extra_env}

    def _spawn_service(
        self,
        name: str,
        *,
        label: str | None = None,
        port: int | None = None,
        cpus: str | None = None,
    ) -> Proc:
        label = label or name
        port = port or self.ports[name]
        env = {
            **self.common_env(),
            "STORYREEL_GRPC_HOST": "127.0.0.1",
            "STORYREEL_GRPC_PORT": str(port),
            "STORYREEL_DATA_DIR": str(self.root / "data" / label),
            "STORYREEL_METRICS_PORT": str(free_port()),
        }
        if name in self.concurrency:
            env["STORYREEL_JOB_CONCURRENCY"] = str(self.concurrency[name])
        (self.root / "data" / label).mkdir(parents=True, exist_ok=True)
        count = sum(1 for p in self.procs if p.name == label)
        log_name = f"{label}.log" if count == 0 else f"{label}.{count}.log"
        proc = Proc(
            name=label,
            # `taskset -c <cpus>` pins the process and every child it starts (ffmpeg).
            args=[*(["taskset", "-c", cpus] if cpus else []), str(BIN / f"storyreel-{name}")],
            log_path=self.root / "logs" / log_name,
            env=env,
            port=port,
        ).spawn(self.root)
        self.procs.append(proc)
        if name != "video":
            self.services[name] = proc
        return proc

    def wait_ready(self, proc: Proc, timeout: float = START_TIMEOUT_S) -> Proc:
        """Ready = the service logged `service.ready` (gRPC serving, job runner pulling).

        A service whose port was taken between `free_port` and its bind (by some outgoing
        connection's ephemeral port, on a busy machine) exits at once; it is started again on
        the same port, which the peers already know, up to twice. Returns the live process."""
        for attempt in range(3):
            try:
                _wait(proc.name, proc, partial(_logged_ready, proc), timeout)
                return proc
            except RuntimeError as exc:
                if attempt == 2 or proc.alive() or "Address already in use" not in str(exc):
                    raise
            time.sleep(1.0)
            proc = self._respawn(proc)
        raise AssertionError("unreachable")

    def add_video_replica(
        self, *, wait: bool = True, port: int | None = None, cpus: str | None = None
    ) -> Proc:
        """Another video worker. The first listens where the workflow reaches the video service;
        later ones get ports of their own (any replica's workers pull from the same consumer).
        `cpus` (taskset's list, e.g. "1") pins it."""
        index = len(self.videos)
        if port is None:
            port = self.ports["video"] if index == 0 else free_port()
        proc = self._spawn_service("video", label=f"video-{index}", port=port, cpus=cpus)
        self.videos.append(proc)
        return self.wait_ready(proc) if wait else proc

    def restart(self, proc: Proc) -> Proc:
        """Start `proc` again as it was (same executable, port, data dir and environment: a
        process manager bringing back what crashed) and wait until it is ready."""
        again = self._respawn(proc)
        if not again.storyreel:
            _wait(again.name, again, lambda: accepts(again.port or 0), START_TIMEOUT_S)
            return again
        return self.wait_ready(again)

    def _respawn(self, proc: Proc) -> Proc:
        """`proc` started again as it was, in its place in the cluster's lists (not awaited)."""
        assert not proc.alive(), f"{proc.name} is still running"
        again = Proc(
            name=proc.name,
            args=proc.args,
            log_path=proc.log_path.with_suffix(f".{len(self.procs)}.log"),
            env=proc.env,
            port=proc.port,
        ).spawn(self.root)
        self.procs.append(again)
        for name, known in list(self.services.items()):
            if known is proc:
                self.services[name] = again
        self.videos = [again if v is proc else v for v in self.videos]
        return again

    def backing(self, name: str) -> Proc:
        """The live (or last) process of a backing server: `nats-server`, `nx-27017`, ..."""
        return [p for p in self.procs if p.name == name][-1]

    def _spawn_gateway(self) -> None:
        port = free_port()
        env = {
            **self.common_env(),
            "STORYREEL_HOST": "127.0.0.1",
            "STORYREEL_PORT": str(port),
            "STORYREEL_JWT_SECRET": self.jwt_secret,
            "STORYREEL_DATA_DIR": str(self.root / "data" / "gateway"),
            "STORYREEL_METRICS_PORT": str(free_port()),
        }
        (self.root / "data" / "gateway").mkdir(parents=True, exist_ok=True)
        self.gateway = Proc(
            name="gateway",
            args=[str(BIN / "storyreel-gateway")],
            log_path=self.root / "logs" / "gateway.log",
            env=env,
            port=port,
        ).spawn(self.root)
        self.procs.append(self.gateway)
        self.url = f"http://127.0.0.1:{port}"

    def _wait_gateway(self) -> None:
        assert self.gateway is not None

        def healthy() -> bool:
            try:
                return httpx.get(f"{self.url}/health/live", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        _wait("gateway", self.gateway, healthy, START_TIMEOUT_S)

    # --- inspection ----------------------------------------------------------------------------

    def s3_client(self) -> Any:
        """A boto3 client on the cluster's S3 (for listing keys and multipart uploads)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
            region_name="us-east-1",
        )

    def s3_keys(self, prefix: str) -> list[str]:
        pages = self.s3_client().get_paginator("list_objects_v2")
        return sorted(
            obj["Key"]
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix)
            for obj in page.get("Contents", [])
        )

    def s3_pending_uploads(self, prefix: str) -> list[str]:
        """Multipart uploads begun and never completed or aborted (partial objects)."""
        answer = self.s3_client().list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        return [upload["Key"] for upload in answer.get("Uploads", [])]

    def logs(self) -> str:
        """The tail of every StoryReel process's log, for an assertion message."""
        return "\n".join(
            f"--- {p.name} (pid {p.popen.pid if p.popen else '?'}) ---\n{p.log_tail(1500)}"
            for p in self.procs
            if p.storyreel
        )


# --- the REST side -------------------------------------------------------------------------------


def submit_render(api: Any, story: str, **options: Any) -> str:
    r = api.post("/pipeline/render", json={"story": story, "style": "赛博朋克", "options": options})
    assert r.status_code == 202, r.text
    task_id: str = r.json()["data"]["task_id"]
    return task_id


def wait_task(
    api: Any, task_id: str, *, timeout: float = 300.0, interval: float = 0.5
) -> dict[str, Any]:
    """Poll `GET /tasks/{id}` until the task is terminal; returns the task (any outcome)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.get(f"/tasks/{task_id}")
        assert r.status_code == 200, r.text
        task: dict[str, Any] = r.json()["data"]
        if task["status"] in TERMINAL:
            return task
        time.sleep(interval)
    raise AssertionError(f"task {task_id} did not finish within {timeout}s")


def render_workflow_id(render_id: str) -> str:
    """A render runs the workflow `wf_<its task id's tail>`."""
    return "wf_" + render_id.removeprefix("task_")


def stage_task_id(api: Any, render_id: str, stage: str, *, timeout: float = 120.0) -> str:
    """The id of the first task of the render's workflow stage (`final`, `frames`, …) once the
    workflow has started it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.get(f"/workflow/{render_workflow_id(render_id)}")
        if r.status_code == 200:
            record = next(s for s in r.json()["data"]["stages"] if s["stage"] == stage)
            for task_id in record["task_ids"][:1]:
                if api.get(f"/tasks/{task_id}").status_code == 200:  # started, not only recorded
                    return str(task_id)
        render = api.get(f"/tasks/{render_id}").json()["data"]
        assert render["status"] not in TERMINAL, f"render ended before {stage}: {render}"
        time.sleep(0.2)
    raise AssertionError(f"no {stage} task for {render_id} within {timeout}s")


def workflow_task_ids(api: Any, render_id: str) -> dict[str, list[str]]:
    """Every task the render's workflow started, by kind, oldest first."""
    found: dict[str, list[str]] = {}
    page = 1
    while True:
        r = api.get("/tasks", params={"page": page, "per_page": 100})
        assert r.status_code == 200, r.text
        tasks = r.json()["data"]
        for task in tasks:
            if task.get("parent_id") == render_workflow_id(render_id):
                found.setdefault(task["kind"], []).append(str(task["task_id"]))
        if len(tasks) < 100:
            return {kind: sorted(ids) for kind, ids in found.items()}
        page += 1


def download(url: str, dest: Path) -> Path:
    with httpx.stream("GET", url, timeout=60) as r:
        assert r.status_code == 200, r.status_code
        with dest.open("wb") as out:
            for chunk in r.iter_bytes():
                out.write(chunk)
    return dest


@contextlib.contextmanager
def running_cluster(root: Path, **kw: Any) -> Iterator[Cluster]:
    with Cluster(root, **kw) as cluster:
        yield cluster


def decode_all_frames(path: Path) -> tuple[int, int]:
    """Decode every video frame and every audio frame; returns (video frames, stream's count).

    A truncated or corrupt MP4 raises while decoding or decodes fewer frames than its index
    (`stream.frames`, from the sample table) promises."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        promised = int(stream.frames)
        decoded = sum(1 for _ in container.decode(stream))
    with av.open(str(path)) as container:
        for _ in container.decode(container.streams.audio[0]):
            pass
    return decoded, promised


def start_cluster(root: Path, **kw: Any) -> Cluster:
    """Start a cluster for a test: skipped when a stand-in server is not installed, torn down
    at once when it fails to come up."""
    import pytest

    cluster = Cluster(root, **kw)
    try:
        return cluster.start()
    except MissingStandIn as exc:
        cluster.stop()
        pytest.skip(str(exc))
    except BaseException:
        cluster.stop()
        raise
