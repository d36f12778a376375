"""Take an upload the gateway staged in the object store: check it, keep it or refuse it.

The staged object is copied here (`storyreel_core.staged_files.staged_copy`: ownership first,
the size limit, the staging object always removed), classified by content (`upload_check`),
and handed to the caller, which stores it under its final key.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from storyreel_asset.upload_check import DEFAULT_MAX_PIXELS, CheckedFile, check_file
from storyreel_core.logging import get_logger
from storyreel_core.scratch import ScratchSpace
from storyreel_core.staged_files import staged_copy
from storyreel_core.stores.object_store import ObjectStore

log = get_logger("storyreel.asset.uploads")
THUMBNAIL_WIDTH = 128


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
    scratch: ScratchSpace | None = None,
) -> AsyncIterator[StagedFile]:
    """Yield the checked local copy of a staged upload (see `staged_copy`)."""
    async with staged_copy(
        objects, staging_key, owner_id, max_bytes=max_bytes, before=before, scratch=scratch
    ) as local:
        checked = await asyncio.to_thread(
            check_file,
            local,
            filename=filename,
            max_bytes=max_bytes,
            max_pixels=max_pixels,
            allowed=allowed,
        )
        yield StagedFile(local, checked)
