"""One `ObjectStore` contract, run against the folder adapter, SeaweedFS's S3 server and (when
configured) another S3.

SeaweedFS checks signatures, so fetching a presigned URL proves it was signed right.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from storyreel_core.errors import NotFound, ValidationFailed
from storyreel_core.settings import Settings
from storyreel_core.stores.object_store import ObjectInfo

BAD_KEYS = ["", "/abs/key", "a/../b", "..", "a//b", "a/./b", "a/", "a b", "a\\b"]


async def _collect(store: Any, key: str, **kw: Any) -> bytes:
    return b"".join([chunk async for chunk in store.stream(key, **kw)])


async def test_put_get_bytes(object_store: Any) -> None:
    info = await object_store.put_bytes("scripts/s1/cover.png", b"\x89PNG data", "image/png")
    assert info == ObjectInfo(key="scripts/s1/cover.png", size=9, content_type="image/png")
    assert await object_store.get_bytes("scripts/s1/cover.png") == b"\x89PNG data"
    assert await object_store.stat("scripts/s1/cover.png") == info
    empty = await object_store.put_bytes("empty.txt", b"", "text/plain")
    assert empty.size == 0
    assert await object_store.get_bytes("empty.txt") == b""


async def test_overwrite_keeps_new_content(object_store: Any) -> None:
    await object_store.put_bytes("a/b.txt", b"old content, longer", "text/plain")
    await object_store.put_bytes("a/b.txt", b"new", "application/json")
    assert await object_store.get_bytes("a/b.txt") == b"new"
    assert await object_store.stat("a/b.txt") == ObjectInfo("a/b.txt", 3, "application/json")
    assert await object_store.list_keys("a/") == ["a/b.txt"]


async def test_put_file_large_round_trip(object_store: Any, tmp_path: Path) -> None:
    size = 20 * 1024 * 1024 + 123  # more than one 16 MiB part on S3
    src = tmp_path / "src.mp4"
    block = os.urandom(1024 * 1024)
    with src.open("wb") as out:
        for _ in range(20):
            out.write(block)
        out.write(block[:123])
    info = await object_store.put_file("renders/t1/final.mp4", src, "video/mp4")
    assert info == ObjectInfo("renders/t1/final.mp4", size, "video/mp4")
    assert await object_store.stat("renders/t1/final.mp4") == info

    dest = tmp_path / "dest.mp4"
    assert await object_store.download("renders/t1/final.mp4", dest) == dest
    assert dest.stat().st_size == size
    with src.open("rb") as a, dest.open("rb") as b:
        assert a.read() == b.read()

    tail = await _collect(object_store, "renders/t1/final.mp4", start=size - 200)
    assert tail == block[-77:] + block[:123]
    streamed = await _collect(object_store, "renders/t1/final.mp4", chunk_size=4 * 1024 * 1024)
    assert len(streamed) == size and streamed[: len(block)] == block


async def test_stream_ranges(object_store: Any) -> None:
    data = bytes(range(256)) * 40  # 10240 bytes
    await object_store.put_bytes("media/clip.bin", data, "application/octet-stream")
    key = "media/clip.bin"
    assert await _collect(object_store, key) == data
    assert await _collect(object_store, key, chunk_size=1000) == data
    chunks = [c async for c in object_store.stream(key, chunk_size=4096)]
    assert all(0 < len(c) <= 4096 for c in chunks) and b"".join(chunks) == data
    assert await _collect(object_store, key, start=10000) == data[10000:]
    assert await _collect(object_store, key, start=100, end=199) == data[100:200]
    assert await _collect(object_store, key, start=0, end=0) == data[:1]
    assert await _collect(object_store, key, start=10239) == data[-1:]
    assert await _collect(object_store, key, start=10239, end=10239) == data[-1:]
    assert await _collect(object_store, key, start=10000, end=99999) == data[10000:]
    assert await _collect(object_store, key, start=5000, end=6000, chunk_size=7) == data[5000:6001]
    # Past the end there is nothing to send (callers answer 416 from `stat` first).
    assert await _collect(object_store, key, start=10240) == b""
    assert await _collect(object_store, key, start=20000, end=30000) == b""
    assert await _collect(object_store, key, start=10, end=9) == b""


async def test_missing_objects(object_store: Any, tmp_path: Path) -> None:
    assert await object_store.stat("no/such.bin") is None
    with pytest.raises(NotFound):
        await object_store.get_bytes("no/such.bin")
    with pytest.raises(NotFound):
        await _collect(object_store, "no/such.bin")
    with pytest.raises(NotFound):
        await _collect(object_store, "no/such.bin", start=5, end=10)
    with pytest.raises(NotFound):
        await object_store.download("no/such.bin", tmp_path / "out.bin")
    assert not (tmp_path / "out.bin").exists()
    assert await object_store.delete("no/such.bin") is False
    assert await object_store.list_keys("no/") == []


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_bad_keys_refused(object_store: Any, key: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed):
        await object_store.put_bytes(key, b"x", "text/plain")
    with pytest.raises(ValidationFailed):
        await object_store.put_file(key, Path(__file__), "text/plain")
    with pytest.raises(ValidationFailed):
        await object_store.get_bytes(key)
    with pytest.raises(ValidationFailed):
        await object_store.stat(key)
    with pytest.raises(ValidationFailed):
        await _collect(object_store, key)
    with pytest.raises(ValidationFailed):
        await object_store.download(key, tmp_path / "x")
    with pytest.raises(ValidationFailed):
        await object_store.delete(key)


async def test_delete_and_prefixes(object_store: Any) -> None:
    keys = [
        "renders/t1/a.mp4",
        "renders/t1/sub/b.mp4",
        "renders/t10/c.mp4",
        "renders/t2/d.mp4",
        "scripts/s1/e.json",
    ]
    for key in keys:
        await object_store.put_bytes(key, key.encode(), "application/octet-stream")
    assert await object_store.list_keys("") == sorted(keys)
    assert await object_store.list_keys("renders/") == keys[:4]
    assert await object_store.list_keys("renders/t1/") == keys[:2]
    assert await object_store.list_keys("renders/t1") == keys[:3]
    assert await object_store.list_keys("nothing/") == []

    assert await object_store.delete("renders/t2/d.mp4") is True
    assert await object_store.delete("renders/t2/d.mp4") is False
    assert await object_store.stat("renders/t2/d.mp4") is None

    assert await object_store.delete_prefix("renders/t1/") == 2
    assert await object_store.list_keys("renders/") == ["renders/t10/c.mp4"]
    assert await object_store.delete_prefix("renders/t1/") == 0
    assert await object_store.get_bytes("scripts/s1/e.json") == b"scripts/s1/e.json"
    assert await object_store.delete_prefix("") == 2
    assert await object_store.list_keys("") == []


async def test_concurrent_streams(object_store: Any) -> None:
    data = os.urandom(300_000)
    await object_store.put_bytes("c/x.bin", data, "application/octet-stream")
    results = await asyncio.gather(
        *(
            _collect(object_store, "c/x.bin", start=i * 1000, end=i * 1000 + 99_999)
            for i in range(8)
        )
    )
    assert results == [data[i * 1000 : i * 1000 + 100_000] for i in range(8)]
    # A stream abandoned part way gives its connection back; later reads still work.
    for _ in range(20):
        agen = object_store.stream("c/x.bin", chunk_size=1000)
        assert len(await agen.__anext__()) == 1000
        await agen.aclose()
    assert await object_store.get_bytes("c/x.bin") == data


# --- folder only ----------------------------------------------------------------------------


async def test_folder_failed_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storyreel_core.stores.folder_store import FolderObjectStore

    store = FolderObjectStore(tmp_path / "media")
    src = tmp_path / "big.bin"
    src.write_bytes(b"n" * 3_000_000)
    await store.put_bytes("v/old.bin", b"old", "text/plain")

    def broken_copy(inp: Any, out: Any, length: int = 0) -> None:
        out.write(inp.read(1_000_000))
        raise OSError("disk full")

    monkeypatch.setattr(shutil, "copyfileobj", broken_copy)
    with pytest.raises(OSError):
        await store.put_file("v/new.bin", src, "video/mp4")
    with pytest.raises(OSError):
        await store.put_file("v/old.bin", src, "video/mp4")
    monkeypatch.undo()

    assert await store.stat("v/new.bin") is None
    assert await store.get_bytes("v/old.bin") == b"old"
    assert await store.list_keys("") == ["v/old.bin"]
    leftovers = [p.name for p in (tmp_path / "media" / "v").iterdir()]
    assert not [n for n in leftovers if n.startswith(".tmp-") or n == "new.bin"]


async def test_folder_refuses_escaping_keys(tmp_path: Path) -> None:
    from storyreel_core.stores.folder_store import FolderObjectStore

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    root = tmp_path / "media"
    root.mkdir()
    (root / "link").symlink_to(outside)
    store = FolderObjectStore(root)
    with pytest.raises(ValidationFailed):
        await store.get_bytes("link/secret.txt")
    with pytest.raises(ValidationFailed):
        await store.put_bytes("x.meta.json", b"{}", "application/json")


# --- S3 only --------------------------------------------------------------------------------


def _fetch(url: str) -> tuple[bytes, Any]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.read(), resp.headers


async def test_s3_presigned_url(s3_store: Any) -> None:
    await s3_store.put_bytes("media/voice.mp3", b"ID3 audio", "audio/mpeg")
    url = s3_store.presigned_get_url("media/voice.mp3", 600)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=600" in url
    body, _headers = await asyncio.to_thread(_fetch, url)
    assert body == b"ID3 audio"

    url = s3_store.presigned_get_url("media/voice.mp3", 600, filename="第1集 voice.mp3")
    _body, headers = await asyncio.to_thread(_fetch, url)
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E7%AC%AC1%E9%9B%86%20voice.mp3" in disposition
    with pytest.raises(ValidationFailed):
        s3_store.presigned_get_url("../x", 600)


async def test_s3_put_file_is_multipart(s3_store: Any, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(20 * 1024 * 1024))
    await s3_store.put_file("big.bin", src, "application/octet-stream")
    found = await asyncio.to_thread(s3_store.client.stat_object, s3_store.bucket, "big.bin")
    assert str(found.etag).strip('"').endswith("-2")  # two 16 MiB parts


async def test_s3_presigned_url_uses_public_endpoint(s3_settings: Settings) -> None:
    from storyreel_core.stores.s3_store import S3ObjectStore

    # No bucket is created and nothing listens there: signing needs no request.
    settings = s3_settings.model_copy(
        update={"s3_public_endpoint": "https://media.storyreel.invalid:8443"}
    )
    store = S3ObjectStore.from_settings(settings)
    url = store.presigned_get_url("renders/t1/final.mp4", 10**9, filename="final.mp4")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "media.storyreel.invalid:8443")
    assert parts.path == f"/{settings.s3_bucket}/renders/t1/final.mp4"
    assert "X-Amz-Expires=604800" in url  # capped at S3's 7 days
    assert "response-content-disposition=" in url
    await store.close()


async def test_s3_connect_is_idempotent(s3_settings: Settings) -> None:
    from storyreel_core.stores.s3_store import S3ObjectStore

    first = await S3ObjectStore.from_settings(s3_settings).connect()
    second = await S3ObjectStore.from_settings(s3_settings).connect()
    try:
        await first.put_bytes("k.txt", b"1", "text/plain")
        assert await second.get_bytes("k.txt") == b"1"
        assert await second.ping() is True
    finally:
        await first.delete_prefix("")
        await asyncio.to_thread(first.client.remove_bucket, first.bucket)
        await first.close()
        await second.close()
