"""A ZIP archive of stored objects, produced while it is sent: nothing is buffered whole.

`zipfile` writes into a sink that cannot seek, so each entry carries its sizes and CRC in a
data descriptor after its bytes and the central directory comes last; the sink is drained
after every chunk, so memory stays at one chunk however large the files are. Entries are
stored, not deflated: MP4 is compressed already and deflating it only costs CPU.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from storyreel_core.stores.object_store import ObjectStore


@dataclass(frozen=True)
class ZipEntry:
    name: str
    key: str
    size: int


class _Sink(io.RawIOBase):
    """Collects what zipfile writes until it is drained; reports a position, refuses seeks."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        chunk = bytes(data)  # type: ignore[call-overload]
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


async def zip_stream(objects: ObjectStore, entries: Sequence[ZipEntry]) -> AsyncIterator[bytes]:
    sink = _Sink()
    stamp = time.gmtime()[:6]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            big = entry.size >= zipfile.ZIP64_LIMIT
            with archive.open(info, "w", force_zip64=big) as member:
                async for chunk in objects.stream(entry.key):
                    member.write(chunk)
                    if data := sink.drain():
                        yield data
            if data := sink.drain():
                yield data
    if data := sink.drain():  # the central directory, written on close
        yield data
