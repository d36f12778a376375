"""A staging object lives for one service call only (`staged_files.staged_object`), also when
the caller fails or is cancelled, even while the store is still writing it."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from storyreel_core.staged_files import staged_object, staging_prefix
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_core.stores.object_store import ObjectInfo


async def staged_keys(objects: FolderObjectStore) -> list[str]:
    return await objects.list_keys("staging/")


async def test_the_object_is_there_for_the_call_and_gone_after(tmp_path: Path) -> None:
    objects = FolderObjectStore(tmp_path / "media")
    source = tmp_path / "take.wav"
    source.write_bytes(b"RIFF take")
    async with staged_object(objects, "usr_a", source, "audio/wav") as key:
        assert key.startswith(staging_prefix("usr_a"))
        assert await objects.get_bytes(key) == b"RIFF take"
    async with staged_object(objects, "usr_a", b"png bytes", "image/png") as key:
        assert await objects.get_bytes(key) == b"png bytes"
    assert await staged_keys(objects) == []


async def test_a_failing_call_leaves_nothing(tmp_path: Path) -> None:
    objects = FolderObjectStore(tmp_path / "media")
    with pytest.raises(RuntimeError):
        async with staged_object(objects, "usr_a", b"data", "image/png"):
            raise RuntimeError("the service refused it")
    assert await staged_keys(objects) == []


async def test_the_service_having_deleted_it_already_is_fine(tmp_path: Path) -> None:
    objects = FolderObjectStore(tmp_path / "media")
    async with staged_object(objects, "usr_a", b"data", "image/png") as key:
        assert await objects.delete(key)  # as `staged_copy` does
    assert await staged_keys(objects) == []


class SlowWrites(FolderObjectStore):
    """Writes in a thread that waits for `go`, as a store's thread keeps running after the
    coroutine awaiting it was cancelled."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.writing, self.go = asyncio.Event(), threading.Event()

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        loop = asyncio.get_running_loop()

        def write() -> ObjectInfo:
            loop.call_soon_threadsafe(self.writing.set)
            self.go.wait(5)
            return self._write_atomic(key, data, content_type)

        return await asyncio.to_thread(write)


async def test_a_cancel_during_the_write_still_leaves_nothing(tmp_path: Path) -> None:
    objects = SlowWrites(tmp_path / "media")
    called: list[str] = []

    async def upload() -> None:
        async with staged_object(objects, "usr_a", b"data", "image/png") as key:
            called.append(key)  # the service call; never reached

    job = asyncio.ensure_future(upload())
    await objects.writing.wait()
    job.cancel()  # e.g. the task cancelled while its material was being staged
    await asyncio.sleep(0.05)
    assert not job.done()  # waits for the write it cannot stop...
    objects.go.set()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert called == []
    assert await staged_keys(objects) == []  # ...and deletes what it wrote
