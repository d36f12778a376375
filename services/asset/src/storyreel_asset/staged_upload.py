"""Take an upload the gateway staged in the object store: check it, keep it or refuse it.

The gateway streams a request body to a temporary file with a running size check and puts the
file under `staging/<user id>/<upload id>`; only that key travels over gRPC. Here the staged
object is downloaded, classified by content (`upload_check`), and handed to the caller, which
stores it under its final key. The staging object is deleted on the way out in every case, so a
refused upload leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from storyreel_asset.upload_check import DEFAULT_MAX_PIXELS, CheckedFile, check_file, too_large
from storyreel_core.errors import NotFound, ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_core.stores.object_store import ObjectStore, check_key

log = get_logger("storyreel.asset.uploads")
THUMBNAIL_WIDTH = 128


def staging_prefix(owner_id: str) -> str:
    return f"staging/{owner_id}/"


@dataclass(frozen=True)
class StagedFile:
    path: Path
    checked: CheckedFile


def jpeg_thumbnail(image: Image.Image, width: int = THUMBNAIL_WIDTH) -> bytes:
    """A JPEG `width` pixels wide (never upscaled), first frame of an animation, on white."""
    frame = image.copy()
    if frame.mode in ("RGBA", "LA", "P"):
        frame = frame.convert("RGBA")
        backdrop = Image.new("RGB", frame.size, (255, 255, 255))
        backdrop.paste(frame, mask=frame.getchannel("A"))
        frame = backdrop
    else:
        frame = frame.convert("RGB")
    w = min(width, frame.width)
    h = max(1, round(frame.height * w / frame.width))
    out = io.BytesIO()
    frame.resize((w, h), Image.Resampling.LANCZOS).save(out, format="JPEG", quality=85)
    return out.getvalue()


def file_thumbnail(path: Path, width: int = THUMBNAIL_WIDTH) -> bytes:
    with Image.open(path) as image:
        return jpeg_thumbnail(image, width)


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


@contextlib.asynccontextmanager
async def take_staged(
    objects: ObjectStore,
    staging_key: str,
    owner_id: str,
    *,
    filename: str,
    max_bytes: int,
    allowed: frozenset[str],
    max_pixels: int = DEFAULT_MAX_PIXELS,
    before: Callable[[], Awaitable[object]] | None = None,
) -> AsyncIterator[StagedFile]:
    """Yield the checked local copy of a staged upload; the staging object is always removed.

    `before` (the ownership checks) runs first, so another user's id answers 404 whatever the
    file holds, and the staged object is removed then too.
    """
    if not staging_key.startswith(staging_prefix(owner_id)):
        raise ValidationFailed("staging_key is not one of the caller's uploads", field="file")
    check_key(staging_key)
    workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="storyreel-upload-"))
    try:
        if before is not None:
            await before()
        info = await objects.stat(staging_key)
        if info is None:
            raise NotFound("the uploaded file is gone", field="file")
        if info.size > max_bytes:
            raise too_large(f"{info.size} bytes is over the limit of {max_bytes} bytes")
        local = await objects.download(staging_key, workdir / "upload")
        checked = await asyncio.to_thread(
            check_file,
            local,
            filename=filename,
            max_bytes=max_bytes,
            max_pixels=max_pixels,
            allowed=allowed,
        )
        yield StagedFile(local, checked)
    finally:
        try:
            await objects.delete(staging_key)
        except Exception as exc:  # the gateway deletes it as well; log, do not mask the result
            log.warning("upload.staging_delete_failed", key=staging_key, error=str(exc))
        await asyncio.to_thread(shutil.rmtree, workdir, True)
