"""The `ObjectStore` port: media blobs by key, streamed, with byte ranges.

Keys are relative, slash-separated paths (`renders/task_x/final.mp4`); adapters refuse keys that
could escape their root or bucket prefix.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from storyreel_core.errors import ValidationFailed

_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")


def check_key(key: str) -> str:
    """Reject keys with `..`, absolute paths, empty parts or odd characters."""
    parts = key.split("/")
    if (
        not key
        or len(key) > 512
        or not _SAFE_KEY.match(key)
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise ValidationFailed(f"invalid object key: {key!r}", field="key")
    return key


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str


class ObjectStore(Protocol):
    async def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectInfo: ...

    async def put_file(self, key: str, path: Path, content_type: str) -> ObjectInfo:
        """Upload a local file; the write is atomic: readers see the old object or the new one."""
        ...

    async def get_bytes(self, key: str) -> bytes: ...

    async def download(self, key: str, path: Path) -> Path: ...

    async def stat(self, key: str) -> ObjectInfo | None: ...

    def stream(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        """Bytes `start..end` inclusive (HTTP Range semantics), in chunks."""
        ...

    async def delete(self, key: str) -> bool: ...

    async def delete_prefix(self, prefix: str) -> int: ...

    async def list_keys(self, prefix: str) -> list[str]: ...

    async def close(self) -> None: ...
