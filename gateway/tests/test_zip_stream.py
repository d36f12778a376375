"""The export-batch ZIP is produced while it is sent: valid, and never held whole in memory."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_gateway.zip_stream import ZipEntry, zip_stream


async def test_a_zip_of_stored_objects_streams_in_chunks_and_opens_anywhere(
    tmp_path: Path,
) -> None:
    objects = FolderObjectStore(tmp_path / "media")
    big, small = os.urandom(3 * 1024 * 1024), b"tiny"
    await objects.put_bytes("dramas/d/videos/a.mp4", big, "video/mp4")
    await objects.put_bytes("dramas/d/videos/b.mp4", small, "video/mp4")
    entries = [
        ZipEntry("a.mp4", "dramas/d/videos/a.mp4", len(big)),
        ZipEntry("b.mp4", "dramas/d/videos/b.mp4", len(small)),
    ]
    chunks = [chunk async for chunk in zip_stream(objects, entries)]

    assert len(chunks) > 10  # one store chunk at a time, not one archive-sized buffer
    assert max(len(c) for c in chunks) < 512 * 1024
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["a.mp4", "b.mp4"]
        assert archive.read("a.mp4") == big and archive.read("b.mp4") == small
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
