"""Folder adapter of `ObjectStore` for embedded mode: one file per key under a root directory.

Writes go to a temporary file in the same directory and are renamed into place, so a crash never
leaves a half-written object under its real name. Blocking file I/O runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from storyreel_core.errors import NotFound, ValidationFailed
from storyreel_core.stores.object_store import ObjectInfo, check_key

_META_SUFFIX = ".meta.json"


class FolderObjectStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path_for(self, key: str) -> Path:
        """The file that holds `key`; a key that resolves outside the root is refused."""
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents or path.name.endswith(_META_SUFFIX):
            raise ValidationFailed(f"invalid object key: {key!r}", field="key")
        return path

    def _write_atomic(self, key: str, src: Path | bytes, content_type: str) -> ObjectInfo:
        dest = self.path_for(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(src, bytes):
                    out.write(src)
                else:
                    with src.open("rb") as inp:
                        shutil.copyfileobj(inp, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            meta = dest.with_name(dest.name + _META_SUFFIX)
            meta.write_text(json.dumps({"content_type": content_type}))
            os.replace(tmp_name, dest)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return ObjectInfo(key=key, size=dest.stat().st_size, content_type=content_type)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        return await asyncio.to_thread(self._write_atomic, key, data, content_type)

    async def put_file(self, key: str, path: Path, content_type: str) -> ObjectInfo:
        return await asyncio.to_thread(self._write_atomic, key, Path(path), content_type)

    async def get_bytes(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise NotFound(f"object {key} not found") from exc

    async def download(self, key: str, path: Path) -> Path:
        src = self.path_for(key)
        if not src.is_file():
            raise NotFound(f"object {key} not found")
        await asyncio.to_thread(shutil.copyfile, src, path)
        return path

    def _stat(self, key: str) -> ObjectInfo | None:
        path = self.path_for(key)
        if not path.is_file():
            return None
        meta = path.with_name(path.name + _META_SUFFIX)
        content_type = "application/octet-stream"
        if meta.is_file():
            content_type = json.loads(meta.read_text()).get("content_type", content_type)
        return ObjectInfo(key=key, size=path.stat().st_size, content_type=content_type)

    async def stat(self, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self._stat, key)

    async def stream(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        path = self.path_for(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as exc:
            raise NotFound(f"object {key} not found") from exc
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                want = chunk_size if remaining is None else min(chunk_size, remaining)
                chunk = await asyncio.to_thread(handle.read, want)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    def _delete(self, key: str) -> bool:
        path = self.path_for(key)
        path.with_name(path.name + _META_SUFFIX).unlink(missing_ok=True)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    async def delete(self, key: str) -> bool:
        return await asyncio.to_thread(self._delete, key)

    def _list(self, prefix: str) -> list[str]:
        keys = []
        for path in self.root.rglob("*"):
            if not path.is_file() or path.name.endswith(_META_SUFFIX):
                continue
            if path.name.startswith(".tmp-"):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                keys.append(key)
        return sorted(keys)

    async def list_keys(self, prefix: str) -> list[str]:
        return await asyncio.to_thread(self._list, prefix)

    async def delete_prefix(self, prefix: str) -> int:
        keys = await self.list_keys(prefix)
        for key in keys:
            await self.delete(key)
        return len(keys)

    async def close(self) -> None:
        return None
